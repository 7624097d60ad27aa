"""POST /api/webhooks/moderation: every bad request gets its /docs/api status and changes nothing."""

import io
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from tests.support.environment import ROTATED_WEBHOOK_SECRET, WEBHOOK_SECRET
from tests.support.factories import image_bytes
from webapp.extensions import db
from webapp.models import BulkJob, ModerationStatus, Role, VirtualImage, WebhookEvent
from webapp.models.types import utcnow
from webapp.providers import ModerationResult
from webapp.services import verdicts
from webapp.services.jobs import bulk_jobs
from webapp.services.moderation import external_moderation, reviews
from webapp.services.photos import uploads

URL = "/api/webhooks/moderation"
EXPLICIT = {"Name": "Explicit", "ParentName": "", "Confidence": 95.0, "TaxonomyLevel": 1}


@pytest.fixture(autouse=True)
def quiet_queue(app, monkeypatch) -> None:
    """No worker listens to the queue: an image stays as each test leaves it."""
    monkeypatch.setitem(app.config, "QUEUE_NAME", "nobody-listens-here")


def accepted(app, user, provider: str) -> str:
    """A stored photo for `provider`, not moderated yet."""
    with app.app_context():
        owner = db.session.get(uploads.User, user.id)
        photo = uploads.accept_photo(owner, io.BytesIO(image_bytes()), "a.jpg", uploads.Placement(provider))
        return str(photo.virtual_image_id)


def hand_over(app, image_id: str) -> None:
    with app.app_context():
        external_moderation.hand_over(db.session.get(VirtualImage, uuid.UUID(image_id)))


@pytest.fixture
def image_id(app, user) -> str:
    """A stored photo handed to the external service, awaiting its verdict."""
    image_id = accepted(app, user, "external")
    hand_over(app, image_id)
    return image_id


@pytest.fixture
def job_image(app, user) -> tuple[str, str]:
    """An external bulk job of one photo, submitted and handed over: (job_id, virtual_image_id)."""
    with app.app_context():
        owner = db.session.get(uploads.User, user.id)
        job = bulk_jobs.create_job(owner, "external")
        placement = uploads.Placement("external", job, 0)
        photo = uploads.accept_photo(owner, io.BytesIO(image_bytes()), "a.jpg", placement)
        bulk_jobs.submit_job(job)
        job_id, image_id = str(job.id), str(photo.virtual_image_id)
    hand_over(app, image_id)
    return job_id, image_id


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


def counters(app, job_id: str) -> dict[str, int]:
    with app.app_context():
        job = db.session.get(BulkJob, uuid.UUID(job_id))
        return {name: getattr(job, name) for name in ("pending", "approved", "flagged", "rejected", "failed")}


def refused(response, status: int, code: str, field: str) -> bool:
    """The answer is /docs/api's error shape with this status and code, and its message names the field."""
    error = response.get_json()["error"]
    return (response.status_code, error["code"]) == (status, code) and field in error["message"]


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


def test_a_replay_of_an_applied_id_is_a_duplicate_though_its_image_no_longer_awaits(app, client, image_id):
    body = event(image_id, "flagged")
    headers = signed(body)
    post(client, body, headers)
    later = event(image_id, "approved")

    refused_later = post(client, later, signed(later))
    replay = post(client, body, headers)

    assert refused_later.status_code == 409  # the image is decided: nothing new may decide it
    assert (replay.status_code, replay.get_json()["status"]) == (200, "duplicate")
    assert state(app, image_id) == ("flagged", 1)


def test_a_refused_callback_leaves_no_trace_and_its_replay_is_refused_again(app, client, image_id):
    first, body = event(image_id, "rejected"), event(image_id, "approved")
    post(client, first, signed(first))
    headers = signed(body)

    answers = [post(client, body, headers).status_code for _ in range(2)]

    assert answers == [409, 409]
    assert state(app, image_id) == ("rejected", 1)


def test_a_pending_external_image_of_a_job_is_applied_and_counted(app, client, job_image):
    job_id, image_id = job_image
    body = event(image_id, "flagged")

    response = post(client, body, signed(body))

    assert (response.status_code, response.get_json()["status"]) == (200, "applied")
    assert state(app, image_id) == ("flagged", 1)
    assert counters(app, job_id) == {"pending": 0, "approved": 0, "flagged": 1, "rejected": 0, "failed": 0}


def test_an_already_decided_external_image_is_409_and_its_job_counts_stay(app, client, job_image):
    job_id, image_id = job_image
    first = event(image_id, "flagged")
    post(client, first, signed(first))
    body = event(image_id, "rejected", labels=[EXPLICIT])

    response = post(client, body, signed(body))

    assert refused(response, 409, "not_awaiting_vendor", "flagged")
    assert state(app, image_id) == ("flagged", 1)
    assert counters(app, job_id) == {"pending": 0, "approved": 0, "flagged": 1, "rejected": 0, "failed": 0}


def test_an_older_callback_arriving_late_does_not_override_a_newer_one(app, client, image_id):
    now = datetime.now(UTC)
    newer, older = event(image_id, "rejected"), event(image_id, "approved")

    post(client, newer, signed(newer, sent_at=now))
    late = post(client, older, signed(older, sent_at=now - timedelta(seconds=90)))

    assert refused(late, 409, "not_awaiting_vendor", "rejected")
    assert state(app, image_id) == ("rejected", 1)


def test_a_persons_decision_is_not_overridden_and_nothing_is_recorded(app, client, image_id):
    from tests.support.factories import make_user

    admin = make_user(app, "admin@example.com", role=Role.ADMIN)
    with app.app_context():
        reviews.decide(db.session.get(uploads.User, admin.id), image_id, "approved", "looked at it")
    body = event(image_id, "rejected", labels=[EXPLICIT])

    response = post(client, body, signed(body))

    assert refused(response, 409, "not_awaiting_vendor", "approved")
    assert state(app, image_id) == (ModerationStatus.APPROVED.value, 0)


def test_an_image_moderated_locally_is_409_and_unchanged(app, client, user):
    local = accepted(app, user, "local")
    with app.app_context():
        verdicts.record_result(uuid.UUID(local), ModerationResult([], "local-model-1", "local"))
    body = event(local, "rejected", labels=[EXPLICIT], model_version="vendor-2")

    response = post(client, body, signed(body))

    assert refused(response, 409, "not_awaiting_vendor", "local")
    assert state(app, local) == ("approved", 0)
    with app.app_context():
        image = db.session.get(VirtualImage, uuid.UUID(local))
        assert (image.source, image.model_version) == ("local", "local-model-1")


@pytest.mark.parametrize("provider", ["local", "rekognition", "rekognition_bulk"])
def test_an_image_waiting_for_another_provider_is_409_and_unchanged(app, client, user, provider):
    other = accepted(app, user, provider)
    body = event(other, "approved")

    response = post(client, body, signed(body))

    assert refused(response, 409, "not_awaiting_vendor", provider)
    assert state(app, other) == ("pending", 0)


def test_an_external_image_not_handed_over_yet_is_409(app, client, user):
    waiting = accepted(app, user, "external")
    body = event(waiting, "approved")

    response = post(client, body, signed(body))

    assert refused(response, 409, "not_awaiting_vendor", "not been sent")
    assert state(app, waiting) == ("pending", 0)


def test_an_image_that_ended_error_at_its_deadline_is_409(app, client, image_id):
    with app.app_context():
        image = db.session.get(VirtualImage, uuid.UUID(image_id))
        image.external_deadline_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        external_moderation.deadline_passed(image.id)
    body = event(image_id, "approved")

    response = post(client, body, signed(body))

    assert refused(response, 409, "not_awaiting_vendor", "error")
    assert state(app, image_id) == ("error", 0)


@pytest.mark.parametrize(
    "confidence", ["true", '"90"', "-1", "101", "NaN", "Infinity", "-Infinity", "1e999", "null"]
)
def test_a_confidence_must_be_a_number_from_0_to_100(app, client, image_id, confidence):
    body = (
        f'{{"virtual_image_id": "{image_id}", "verdict": "approved",'
        f' "labels": [{{"Name": "Explicit", "Confidence": {confidence}}}]}}'
    )

    response = post(client, body, signed(body))

    assert refused(response, 422, "invalid_event", "labels[0].Confidence")
    assert state(app, image_id) == ("pending", 0)


def test_strings_are_capped_to_their_columns(app, client, image_id):
    label = {"Name": "N" * 1000, "ParentName": "P" * 1000, "Confidence": 10.0}
    body = event(image_id, "approved", labels=[label], model_version="v" * 500, provider="p" * 500)

    response = post(client, body, signed(body))

    assert response.status_code == 200
    with app.app_context():
        image = db.session.get(VirtualImage, uuid.UUID(image_id))
        stored = image.rekognition_data["ModerationLabels"][0]
        assert image.model_version == "v" * VirtualImage.model_version.type.length
        assert (stored["Name"], stored["ParentName"]) == ("N" * 255, "P" * 255)
        assert image.rekognition_data["provider"] == "p" * VirtualImage.provider.type.length


def test_a_provider_alone_names_the_model_capped_to_its_column(app, client, image_id):
    body = event(image_id, "approved", provider="vendor-" + "x" * 200)

    post(client, body, signed(body))

    with app.app_context():
        image = db.session.get(VirtualImage, uuid.UUID(image_id))
        assert image.model_version == ("vendor-" + "x" * 200)[: VirtualImage.provider.type.length]


@pytest.mark.parametrize(
    "body",
    [
        "[" * 10_000 + "]" * 10_000,
        '{"a":' * 10_000 + "1" + "}" * 10_000,
        '{"virtual_image_id": "IMAGE", "verdict": "approved", "notes": ' + "[" * 900 + "]" * 900 + "}",
        '{"virtual_image_id": "IMAGE", "verdict": "approved", "notes": ' + "[" * 33 + "]" * 33 + "}",
    ],
)
def test_a_body_nested_too_deep_is_400_and_writes_nothing(app, client, image_id, body):
    body = body.replace("IMAGE", image_id)

    response = post(client, body, signed(body))

    assert refused(response, 400, "malformed_body", "deep")
    assert state(app, image_id) == ("pending", 0)


def test_nesting_inside_strings_does_not_count(app, client, image_id):
    body = event(image_id, "approved", notes="[{" * 100, labels=[{"Name": "]]}}" * 50, "Confidence": 1}])

    assert post(client, body, signed(body)).status_code == 200


HOSTILE = [
    (
        '{"virtual_image_id": 12345678901234567890123456789012, "verdict": "approved"}',
        422,
        "virtual_image_id",
    ),
    ('{"virtual_image_id": ["IMAGE"], "verdict": "approved"}', 422, "virtual_image_id"),
    ('{"virtual_image_id": "IMAGE", "verdict": ["approved"]}', 422, "verdict"),
    ('{"virtual_image_id": "IMAGE", "verdict": {"approved": 1}}', 422, "verdict"),
    ('{"virtual_image_id": "IMAGE", "verdict": 1}', 422, "verdict"),
    ('{"virtual_image_id": "IMAGE", "verdict": "approved", "labels": {"Name": "Explicit"}}', 422, "labels"),
    ('{"virtual_image_id": "IMAGE", "verdict": "approved", "labels": false}', 422, "labels"),
    ('{"virtual_image_id": "IMAGE", "verdict": "approved", "labels": [["Explicit", 90]]}', 422, "labels[0]"),
    (
        '{"virtual_image_id": "IMAGE", "verdict": "approved", "labels": [{"Confidence": 90}]}',
        422,
        "labels[0].Name",
    ),
    (
        '{"virtual_image_id": "IMAGE", "verdict": "approved", "labels": [{"Name": "E", "Confidence": 9, '
        '"ParentName": 5}]}',
        422,
        "labels[0].ParentName",
    ),
    (
        '{"virtual_image_id": "IMAGE", "verdict": "approved", "labels": [{"Name": "E", "Confidence": 9, '
        '"TaxonomyLevel": true}]}',
        422,
        "labels[0].TaxonomyLevel",
    ),
    (
        '{"virtual_image_id": "IMAGE", "verdict": "approved", "labels": [{"Name": "E", "Confidence": 9, '
        '"TaxonomyLevel": 1' + "0" * 4000 + "}]}",
        422,
        "labels[0].TaxonomyLevel",
    ),
    ('{"virtual_image_id": "IMAGE", "verdict": "approved", "provider": 5}', 422, "provider"),
    ('{"virtual_image_id": "IMAGE", "verdict": "approved", "model_version": ["v1"]}', 422, "model_version"),
    ('{"virtual_image_id": "IMAGE", "verdict": "approved", "verdict": "rejected"}', 400, "verdict"),
    (
        '{"virtual_image_id": "IMAGE", "verdict": "approved", "notes": 1' + "0" * 5000 + "}",
        400,
        "malformed_body",
    ),
    ('{"virtual_image_id": "IMAGE", "verdict": "approved", "notes": 1e999}', 422, "notes"),
    ('{"virtual_image_id": "IMAGE", "verdict": "approved", "notes": [NaN]}', 422, "notes[0]"),
    (
        '{"virtual_image_id": "IMAGE", "verdict": "approved", "model_version": "v\\u0000"}',
        422,
        "model_version",
    ),
    (
        '{"virtual_image_id": "IMAGE", "verdict": "approved",'
        ' "labels": [{"Name": "\\ud800", "Confidence": 9}]}',
        422,
        "labels[0].Name",
    ),
    ('{"virtual_image_id": "IMAGE", "verdict": "approved", "notes": {"k\\u0000": 1}}', 422, "notes"),
]


@pytest.mark.parametrize(("body", "status", "named"), HOSTILE)
def test_hostile_signed_json_is_4xx_naming_the_field_and_changes_nothing(
    app, client, image_id, body, status, named
):
    body = body.replace("IMAGE", image_id)

    response = post(client, body, signed(body))

    assert response.status_code == status, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert error["code"] == ("malformed_body" if status == 400 else "invalid_event")
    assert named in error["code"] + error["message"]
    assert state(app, image_id) == ("pending", 0)


def test_an_overlong_webhook_id_is_refused_not_cut(app, client, image_id):
    body = event(image_id, "rejected")

    response = post(client, body, signed(body, webhook_id="msg_" + "x" * 300))

    assert refused(response, 422, "invalid_event", "webhook-id")
    assert state(app, image_id) == ("pending", 0)
