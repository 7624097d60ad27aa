"""POST /api/webhooks/moderation: every bad request gets its API.md status and changes nothing."""

import io
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from tests.conftest import ROTATED_WEBHOOK_SECRET, WEBHOOK_SECRET
from tests.factories import image_bytes
from webapp.extensions import db
from webapp.models import ModerationStatus, VirtualImage, WebhookEvent
from webapp.services import reviews, uploads

URL = "/api/webhooks/moderation"
EXPLICIT = {"Name": "Explicit", "ParentName": "", "Confidence": 95.0, "TaxonomyLevel": 1}


@pytest.fixture
def image_id(app, user, monkeypatch) -> str:
    """A stored photo awaiting the external service (no worker listens to its queue)."""
    monkeypatch.setitem(app.config, "QUEUE_NAME", "nobody-listens-here")
    with app.app_context():
        owner = db.session.get(uploads.User, user.id)
        accepted = uploads.accept_photo(
            owner, io.BytesIO(image_bytes()), "a.jpg", uploads.Placement("external")
        )
        return str(accepted.virtual_image_id)


def signed(body: str, secret: str = WEBHOOK_SECRET, webhook_id: str | None = None, sent_at=None) -> dict:
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    sent_at = sent_at or datetime.now(UTC)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, sent_at, body),
        "Content-Type": "application/json",
    }


def event(image_id: str, verdict: str = "approved", **extra) -> str:
    return json.dumps({"virtual_image_id": image_id, "verdict": verdict, **extra})


def post(client, body: str | bytes, headers: dict):
    return client.post(URL, data=body, headers=headers)


def state(app, image_id: str) -> tuple[str, int]:
    with app.app_context():
        image = db.session.get(VirtualImage, uuid.UUID(image_id))
        events = db.session.scalar(select(func.count()).select_from(WebhookEvent))
        return image.moderation_status.value, events


def test_a_signed_verdict_is_applied_by_virtual_image_id(app, client, image_id):
    body = event(image_id, "flagged", labels=[EXPLICIT | {"Confidence": 60.0}], model_version="vendor-2")

    response = post(client, body, signed(body))

    assert response.status_code == 200
    assert response.get_json()["status"] == "applied"
    with app.app_context():
        image = db.session.get(VirtualImage, uuid.UUID(image_id))
        assert (image.moderation_status, image.source, image.model_version) == (
            "flagged",
            "external",
            "vendor-2",
        )
        assert image.rekognition_data["ModerationLabels"][0]["Name"] == "Explicit"


def test_the_policy_applies_to_the_services_labels_too(app, client, image_id):
    body = event(image_id, "approved", labels=[EXPLICIT])

    post(client, body, signed(body))

    assert state(app, image_id)[0] == "rejected"  # Explicit 95 ≥ 80, whatever the service said


def test_either_active_secret_verifies_during_a_rotation(app, client, image_id):
    body = event(image_id)

    assert post(client, body, signed(body, ROTATED_WEBHOOK_SECRET)).status_code == 200


def _bad_signatures(body: str) -> list[dict]:
    good = signed(body)
    old = datetime.now(UTC) - timedelta(minutes=6)
    future = datetime.now(UTC) + timedelta(minutes=6)
    wrong_secret = "whsec_" + "c29tZW9uZSBlbHNlcyBzZWNyZXQ="
    return [
        {"Content-Type": "application/json"},
        {key: value for key, value in good.items() if key != "webhook-id"},
        good | {"webhook-signature": "v1" + good["webhook-signature"][3:]},  # no comma: not a 500
        good | {"webhook-signature": "v1,not*base64!"},
        good | {"webhook-signature": "v2," + good["webhook-signature"][3:]},
        good | {"webhook-timestamp": "yesterday"},
        signed(body, wrong_secret),
        signed(body, sent_at=old),
        signed(body, sent_at=future),
        good | {"webhook-id": "msg_another-id"},
    ]


@pytest.mark.parametrize("case", range(10))
def test_a_bad_missing_or_stale_signature_is_401_and_changes_nothing(app, client, image_id, case):
    body = event(image_id, "rejected")

    response = post(client, body, _bad_signatures(body)[case])

    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_signature"
    assert state(app, image_id) == ("pending", 0)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"\xff\xfe not utf-8", 400, "malformed_body"),
        (b"this is not json", 400, "malformed_body"),
        (b"[1, 2, 3]", 400, "malformed_body"),
        (b'{"verdict": "approved"}', 422, "invalid_event"),
        (b'{"virtual_image_id": "not-a-uuid", "verdict": "approved"}', 422, "invalid_event"),
        (b'{"virtual_image_id": "IMAGE", "verdict": "maybe"}', 422, "invalid_event"),
        (
            b'{"virtual_image_id": "IMAGE", "verdict": "approved", "labels": [{"Name": 1}]}',
            422,
            "invalid_event",
        ),
        (b'{"virtual_image_id": "IMAGE", "verdict": "approved", "labels": "Explicit"}', 422, "invalid_event"),
    ],
)
def test_malformed_signed_bodies_are_4xx_never_500(app, client, image_id, body, status, code):
    body = body.replace(b"IMAGE", image_id.encode())
    # Bytes that are not text cannot carry a signature the library checks; they are refused first.
    headers = signed("x") if body.startswith(b"\xff") else signed(body.decode())

    response = post(client, body, headers)

    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert state(app, image_id) == ("pending", 0)


def test_an_unknown_virtual_image_id_is_404(app, client, image_id):
    body = event(str(uuid.uuid4()))

    response = post(client, body, signed(body))

    assert response.status_code == 404
    assert state(app, image_id) == ("pending", 0)


def test_the_body_is_capped_before_any_work(app, client, image_id, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_MAX_BYTES", 1024)
    body = event(image_id, notes="x" * 2000)

    response = post(client, body, signed(body))

    assert response.status_code == 413
    assert state(app, image_id) == ("pending", 0)


def test_a_replayed_webhook_id_changes_nothing(app, client, image_id):
    body = event(image_id, "rejected")
    headers = signed(body)

    first, second = post(client, body, headers), post(client, body, headers)

    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.get_json()["status"], second.get_json()["status"]) == ("applied", "duplicate")
    assert state(app, image_id) == ("rejected", 1)


def test_concurrent_replays_are_applied_once(app, image_id, monkeypatch):
    body = event(image_id, "flagged")
    headers = signed(body)
    answers: list[str] = []

    def replay() -> None:
        response = post(app.test_client(), body, headers)
        answers.append(response.get_json()["status"])

    threads = [threading.Thread(target=replay) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answers) == ["applied"] + ["duplicate"] * 7
    assert state(app, image_id) == ("flagged", 1)


def test_an_older_callback_arriving_late_does_not_override_a_newer_one(app, client, image_id):
    now = datetime.now(UTC)
    newer, older = event(image_id, "rejected"), event(image_id, "approved")

    post(client, newer, signed(newer, sent_at=now))
    late = post(client, older, signed(older, sent_at=now - timedelta(seconds=90)))

    assert late.get_json()["status"] == "ignored_stale"
    assert state(app, image_id) == ("rejected", 2)


def test_a_persons_decision_is_not_overridden_but_the_event_is_recorded(app, client, image_id):
    from tests.factories import make_user

    admin = make_user(app, "admin@example.com", admin=True)
    with app.app_context():
        reviews.decide(db.session.get(uploads.User, admin.id), image_id, "approved", "looked at it")
    body = event(image_id, "rejected", labels=[EXPLICIT])

    response = post(client, body, signed(body))

    assert response.get_json()["status"] == "ignored_reviewed"
    assert state(app, image_id) == (ModerationStatus.APPROVED.value, 1)
