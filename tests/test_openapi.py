"""The OpenAPI document is the API: it matches the routes, reads as a page, and no input makes a 5xx.

Schemathesis generates requests for every operation of the document (bounded, so the suite stays
fast) as an ordinary user and as an admin, and checks each answer: never a 5xx, and status, content
type and body as the document says. Walks through each area check the answers about real photos,
jobs, banks, accounts and a vendor's verdict the same way: a field the server sends and the document
does not name fails.
"""

import io
import json
import re
import uuid
from datetime import UTC, datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from standardwebhooks.webhooks import Webhook

from tests.support.environment import WEBHOOK_SECRET
from tests.support.factories import encoded, image_bytes, make_user, scene, wait_until_terminal
from tests.support.reviews import waiting_photo
from webapp.extensions import db
from webapp.imaging import make_derivatives
from webapp.models import Role, VirtualImage
from webapp.services.moderation import external_moderation
from webapp.views.api_reference import markdown_inline
from webapp.views.openapi import document

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def test_the_document_is_valid_openapi_3_1(client):
    served = client.get("/api/openapi.json").get_json()

    assert served["openapi"].startswith("3.1")
    assert served == document()
    validate(served)


def test_the_document_has_exactly_the_apps_api_operations(app, client):
    document = client.get("/api/openapi.json").get_json()
    documented = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    routed = {
        (method, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }

    assert documented == routed


def test_the_api_page_reads_every_operation_to_people(client):
    document = client.get("/api/openapi.json").get_json()

    page = client.get("/docs/api").get_data(as_text=True)

    for path, item in document["paths"].items():
        for method in item.keys() & HTTP_METHODS:
            assert f'<h2><span class="method">{method.upper()}</span> <code>{path}</code></h2>' in page


def test_markdown_in_descriptions_is_shown_never_run():
    shown = markdown_inline(
        "`code` *said* [docs](https://example.com) <script>alert(1)</script> [x](javascript:alert(1))"
    )

    assert shown.startswith('<code>code</code> <em>said</em> <a href="https://example.com">docs</a> ')
    assert "&lt;script&gt;" in shown and "<script" not in shown
    assert 'href="javascript' not in shown


@pytest.fixture
def unheard(app, monkeypatch):
    """Photos the fuzzer manages to upload wait in a queue no worker listens to (the next test empties it)."""
    monkeypatch.setitem(app.config, "QUEUE_NAME", "fuzzed-nobody-listens")


@pytest.fixture
def admin_caller(app):
    return make_user(app, "fuzz-admin@example.com", role=Role.ADMIN)


# Loaded from the same function that serves /api/openapi.json (the first tests prove they agree).
schema = schemathesis.openapi.from_dict(document())
FUZZING = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@schema.parametrize()
@FUZZING
def test_no_input_from_a_user_gets_a_5xx_and_every_answer_matches_the_document(case, app, user, unheard):
    case.call_and_validate(app=app, headers=user.headers, checks=CHECKS)


@schema.parametrize()
@FUZZING
def test_no_input_from_an_admin_gets_a_5xx_and_every_answer_matches_the_document(
    case, app, admin_caller, unheard
):
    case.call_and_validate(app=app, headers=admin_caller.headers, checks=CHECKS)


ANSWER_CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def checked(app):
    """Checks a response against the document's answer to its request (status, content type and body,
    where an object with a field the document does not name fails), and returns it."""
    routes = app.url_map.bind("localhost")

    def check(response):
        method, path = response.request.method, response.request.path
        rule, path_parameters = routes.match(path, method, return_rule=True)
        operation = schema[re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)][method]
        operation.Case(path_parameters=path_parameters).validate_response(response, checks=ANSWER_CHECKS)
        return response

    return check


def test_what_the_api_says_about_a_photo_is_all_in_the_document(app, client, checked, user, admin, worker):
    original = scene(31)
    bank = checked(client.post("/api/banks", headers=admin.headers, json={"name": "Walk", "action": "flag"}))
    pdq_hash = make_derivatives(encoded(original, "JPEG")).fingerprint.pdq
    url = f"/api/banks/{bank.get_json()['id']}/entries"
    checked(client.post(url, headers=admin.headers, json={"pdq_hash": pdq_hash}))
    matched = uploaded(checked, client, user, encoded(original, "JPEG", quality=60), "rekognition")
    photo_url = f"/api/photos/{matched['session_id']}"
    assert checked(client.get(photo_url, headers=admin.headers)).get_json()["moderation"]["match"]
    review = {"verdict": "rejected", "note": "internal", "message": "for you"}
    review_url = f"/api/virtual-images/{matched['virtual_image_id']}/review"
    checked(client.post(review_url, headers=admin.headers, json=review))
    duplicate = uploaded(checked, client, user, encoded(original, "JPEG", quality=60), "local")

    twin = checked(client.get(f"/api/photos/{duplicate['session_id']}", headers=user.headers)).get_json()
    assert twin["moderation"]["duplicate_of"] == matched["virtual_image_id"]
    for person in (user, admin):
        shown = checked(client.get(photo_url, headers=person.headers)).get_json()
        assert shown["images"] and shown["moderation"]["reviews"]
        checked(client.get("/api/photos", headers=person.headers, query_string={"verdict": "rejected"}))
    checked(client.delete(photo_url, headers=user.headers))


def uploaded(checked, client, person, data: bytes, provider: str) -> dict:
    """A photo uploaded for `provider` and processed by the worker: the upload's answer."""
    form = {"file": (io.BytesIO(data), "photo.jpg"), "provider": provider}
    photo = checked(client.post("/api/photos/upload", headers=person.headers, data=form)).get_json()
    assert wait_until_terminal(client.application, photo["session_id"]) == "completed"
    return photo


def test_what_the_api_says_about_a_job_is_all_in_the_document(client, checked, user, parked):
    files = [(io.BytesIO(image_bytes()), "a.jpg"), (io.BytesIO(b"not an image"), "b.jpg")]
    batch = checked(
        client.post("/api/bulk-nsfw/upload", headers=user.headers, data={"files": files})
    ).get_json()
    assert batch["images"] and batch["rejected"]
    status = checked(client.get(f"/api/bulk-nsfw/{batch['job_id']}/status", headers=user.headers)).get_json()
    assert status["images"] and status["refused_files"]
    opened = checked(client.post("/api/bulk-nsfw/jobs", headers=user.headers, json={})).get_json()
    job = f"/api/bulk-nsfw/jobs/{opened['job_id']}"
    checked(
        client.post(
            f"{job}/files", headers=user.headers, data={"files": [(io.BytesIO(image_bytes()), "c.jpg")]}
        )
    )
    sent = {"files": [{"sha256": "0" * 64, "size": 1, "filename": "d.jpg"}]}
    checked(client.post(f"{job}/check", headers=user.headers, json=sent))
    checked(client.post(f"{job}/submit", headers=user.headers))
    checked(client.get(job, headers=user.headers))
    assert len(checked(client.get("/api/bulk-nsfw/jobs", headers=user.headers)).get_json()["jobs"]) == 2
    checked(client.delete(job, headers=user.headers))


def test_what_the_api_says_about_a_hash_bank_is_all_in_the_document(client, checked, admin):
    bank = checked(
        client.post("/api/banks", headers=admin.headers, json={"name": "Walk", "action": "reject"})
    )
    url = f"/api/banks/{bank.get_json()['id']}"
    entry = {"pdq_hash": "f" * 64, "note": "by hand"}
    added = checked(client.post(f"{url}/entries", headers=admin.headers, json=entry)).get_json()
    assert checked(client.post(f"{url}/entries", headers=admin.headers, json=entry)).status_code == 200
    checked(client.patch(f"{url}/entries/{added['id']}", headers=admin.headers, json={"enabled": False}))
    checked(client.patch(url, headers=admin.headers, json={"distance": 10}))
    text = {"headers": admin.headers, "content_type": "text/csv"}
    checked(client.post(f"{url}/import", data="e" * 64 + ",imported\n", **text))
    assert checked(client.post(f"{url}/import", data="not a hash\n", **text)).status_code == 422
    checked(client.get(f"{url}/export", headers=admin.headers))
    checked(client.get(f"{url}/entries", headers=admin.headers))
    checked(client.get(url, headers=admin.headers))
    assert checked(client.get("/api/banks", headers=admin.headers)).get_json()["banks"][0]["entries"] == 2


def test_what_the_api_says_about_an_account_is_all_in_the_document(client, checked, user):
    settings = {"default_callback_url": "https://example.com/hook"}
    checked(client.put("/api/account", headers=user.headers, json=settings))
    checked(client.get("/api/account/signing-secret", headers=user.headers))
    checked(client.post("/api/account/signing-secret/rotate", headers=user.headers))
    made = checked(client.post("/api/tokens", headers=user.headers, json={"name": "walk"})).get_json()
    assert len(checked(client.get("/api/tokens", headers=user.headers)).get_json()["tokens"]) == 2
    checked(client.delete(f"/api/tokens/{made['id']}", headers=user.headers))


def test_what_the_api_says_about_review_settings_is_all_in_the_document(client, checked, user, admin):
    url = "/api/account/review-settings"
    checked(client.get(url, headers=admin.headers))
    changed = checked(client.put(url, headers=admin.headers, json={"reveal": "hover"}))
    assert changed.get_json()["reveal"] == "hover"
    assert checked(client.put(url, headers=admin.headers, json={"blur": "no"})).status_code == 422
    assert checked(client.get(url, headers=user.headers)).status_code == 403


def test_what_the_api_says_about_appeals_and_the_audit_is_all_in_the_document(
    app, client, checked, user, admin, parked
):
    moderator = make_user(app, "walk-moderator@example.com", role=Role.MODERATOR)
    photo = waiting_photo(app, user, "walk.jpg")
    url = f"/api/photos/{photo.session_id}/appeal"
    for person, message, status in (
        (user, "", 422),
        (user, "Look", 201),
        (user, "Again", 409),
        (admin, "Me", 404),
    ):
        assert (
            checked(client.post(url, headers=person.headers, json={"message": message})).status_code == status
        )
    review = {"verdict": "approved", "message": "Agreed."}
    url = f"/api/virtual-images/{photo.virtual_image_id}/review"
    checked(client.post(url, headers=moderator.headers, json=review))
    for person in (user, moderator):
        shown = checked(client.get(f"/api/photos/{photo.session_id}", headers=person.headers)).get_json()
        assert shown["moderation"]["appeal"]["status"] == "overturned"

    appealed = checked(client.get("/api/audit", headers=admin.headers, query_string={"kind": "appeal"}))
    assert [event["kind"] for event in appealed.get_json()["events"]] == ["appeal"]
    for person, params, status in ((admin, {"since": "soon"}, 400), (moderator, {}, 403)):
        assert (
            checked(client.get("/api/audit", headers=person.headers, query_string=params)).status_code
            == status
        )


def test_what_the_api_says_about_review_work_is_all_in_the_document(
    app, client, checked, user, admin, parked
):
    moderator = make_user(app, "walk-reviewer@example.com", role=Role.MODERATOR)
    kept, passed, other = (waiting_photo(app, user, f"{name}.jpg") for name in ("kept", "passed", "other"))
    work = checked(client.get("/api/review/queue", headers=moderator.headers, query_string={"limit": 2}))
    assert len(work.get_json()["items"]) == 2 and work.get_json()["waiting"] == 1
    item = f"/api/review/items/{passed.virtual_image_id}"
    escalated = checked(client.post(f"{item}/escalate", headers=moderator.headers, json={"note": "for you"}))
    assert escalated.get_json()["escalation"]["note"] == "for you"
    escalated_queue = "/api/review/queue?queue=escalated"
    assert checked(client.get(escalated_queue, headers=moderator.headers)).status_code == 403
    checked(client.get(escalated_queue, headers=admin.headers))
    approve = {"verdict": "approved"}
    review = f"/api/virtual-images/{passed.virtual_image_id}/review"
    assert checked(client.post(review, headers=moderator.headers, json=approve)).status_code == 403
    claim = f"/api/review/items/{kept.virtual_image_id}/claim"
    assert checked(client.post(claim, headers=admin.headers)).status_code == 409
    assert checked(client.post(claim, headers=moderator.headers, json={"take_over": True})).status_code == 200
    review = f"/api/virtual-images/{kept.virtual_image_id}/review"
    assert checked(client.post(review, headers=admin.headers, json=approve)).status_code == 409
    checked(client.post(claim, headers=admin.headers, json={"take_over": True}))
    checked(client.delete(claim, headers=admin.headers))
    checked(client.post(review, headers=admin.headers, json=approve))
    assert checked(client.post(claim, headers=admin.headers)).status_code == 409
    assert checked(client.get("/api/review/queue?limit=0", headers=moderator.headers)).status_code == 400
    checked(client.delete(f"/api/review/items/{other.virtual_image_id}/claim", headers=moderator.headers))


def test_what_the_api_answers_a_vendors_verdict_is_all_in_the_document(
    app, client, checked, user, parked, monkeypatch
):
    # Nothing is sent there: no worker takes the request off the parked queue.
    monkeypatch.setitem(app.config, "EXTERNAL_MODERATION_URL", "http://127.0.0.1:9/moderate")
    photo = {"file": (io.BytesIO(image_bytes()), "a.jpg"), "provider": "external"}
    image = checked(client.post("/api/photos/upload", headers=user.headers, data=photo)).get_json()
    with app.app_context():
        external_moderation.hand_over(db.session.get(VirtualImage, uuid.UUID(image["virtual_image_id"])))
    body = json.dumps({"virtual_image_id": image["virtual_image_id"], "verdict": "approved"})
    webhook_id, sent_at = f"msg_{uuid.uuid4().hex}", datetime.now(UTC)
    headers = {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(WEBHOOK_SECRET).sign(webhook_id, sent_at, body),
        "Content-Type": "application/json",
    }

    assert (
        checked(client.post("/api/webhooks/moderation", data=body, headers=headers)).get_json()["status"]
        == "applied"
    )
    assert (
        checked(client.post("/api/webhooks/moderation", data=body, headers=headers)).get_json()["status"]
        == "duplicate"
    )
