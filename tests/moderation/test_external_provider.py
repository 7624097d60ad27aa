"""The external provider with a real stand-in service on loopback, real workers and a live server.

photogate sends each image (signed) to the stand-in; the test, as the vendor, calls the webhook
back: on time, twice, out of order, forged, or never.
"""

import io
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta

from tests.support.environment import WEBHOOK_SECRET
from tests.support.factories import image_bytes, wait_for
from tests.support.standin import call_back

EXPLICIT = {"Name": "Explicit", "ParentName": "", "Confidence": 88.0, "TaxonomyLevel": 1}


def upload_external(client, user) -> dict:
    response = client.post(
        "/api/photos/upload",
        headers=user.headers,
        data={"file": (io.BytesIO(image_bytes()), "a.jpg"), "provider": "external"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 202, response.get_json()
    return response.get_json()


def moderation(client, user, session_id: str) -> dict:
    return client.get(f"/api/photos/{session_id}", headers=user.headers).get_json()["moderation"]


def test_the_service_gets_a_signed_request_it_can_act_on_and_its_verdict_lands_once(
    app, client, user, vendor
):
    photo = upload_external(client, user)

    request = vendor.wait_for_requests(1)[0]
    assert request.signature_valid
    assert request.body["virtual_image_id"] == photo["virtual_image_id"]
    with urllib.request.urlopen(request.body["image_url"], timeout=10) as image:
        assert image.read()[:3] == b"\xff\xd8\xff"  # the short-lived URL serves the JPEG
    assert moderation(client, user, photo["session_id"])["status"] == "pending"

    verdict = {"virtual_image_id": photo["virtual_image_id"], "verdict": "flagged", "labels": [EXPLICIT]}
    callback = request.body["callback_url"]
    forged = call_back(
        callback, "whsec_Zm9yZ2VkLXNlY3JldC1mb3JnZWQtc2VjcmV0", verdict | {"verdict": "approved"}
    )
    sent = datetime.now(UTC)
    first = call_back(callback, WEBHOOK_SECRET, verdict, "msg_vendor_1", sent)
    duplicate = call_back(callback, WEBHOOK_SECRET, verdict, "msg_vendor_1", sent)
    late = call_back(
        callback, WEBHOOK_SECRET, verdict | {"verdict": "approved"}, sent_at=sent - timedelta(minutes=1)
    )

    assert forged[0] == 401
    assert (first[0], first[1]["status"]) == (200, "applied")
    assert (duplicate[0], duplicate[1]["status"]) == (200, "duplicate")
    # Decided by the first verdict, the image awaits no other: a later callback is refused, unapplied.
    assert (late[0], late[1]["error"]["code"]) == (409, "not_awaiting_vendor")
    result = moderation(client, user, photo["session_id"])
    assert (result["status"], result["source"], result["is_nsfw"]) == (
        "rejected",
        "external",
        True,
    )  # 88 ≥ 80


def test_an_image_the_service_never_answers_ends_error_at_its_deadline(app, client, user, vendor):
    photo = upload_external(client, user)
    request = vendor.wait_for_requests(1)[0]

    result = wait_for(
        lambda: (m := moderation(client, user, photo["session_id"]))["status"] != "pending" and m, 30
    )
    verdict = {"virtual_image_id": photo["virtual_image_id"], "verdict": "approved"}
    too_late = call_back(request.body["callback_url"], WEBHOOK_SECRET, verdict)

    assert result["status"] == "error"
    assert result["is_nsfw"] is None
    assert (too_late[0], too_late[1]["error"]["code"]) == (409, "not_awaiting_vendor")
    assert moderation(client, user, photo["session_id"])["status"] == "error"
    photo_page = client.get(f"/api/photos/{photo['session_id']}", headers=user.headers).get_json()
    assert photo_page["status"] == "completed"


def test_delivery_is_retried_while_the_service_is_down_then_ends_error(app, client, user, vendor):
    vendor.answers.extend([503, 503, 503])
    photo = upload_external(client, user)

    requests = vendor.wait_for_requests(3, timeout=30)

    assert len({r.headers["webhook-id"] for r in requests}) == 1  # the same message, retried
    with app.app_context():
        from webapp.extensions import db
        from webapp.models import VirtualImage

        wait_for(
            lambda: (
                db.session.get(
                    VirtualImage, uuid.UUID(photo["virtual_image_id"]), populate_existing=True
                ).moderation_status.value
                == "error"
            ),
            20,
        )
        image = db.session.get(VirtualImage, uuid.UUID(photo["virtual_image_id"]))
        assert "could not be reached" in image.moderation_error


def test_the_external_provider_needs_a_configured_service(app, client, user, monkeypatch):
    monkeypatch.setitem(app.config, "EXTERNAL_MODERATION_URL", "")

    response = client.post("/api/bulk-nsfw/jobs", headers=user.headers, json={"provider": "external"})

    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "provider_unavailable"


def test_the_external_provider_needs_a_secret_to_sign_its_requests(app, client, user, monkeypatch):
    monkeypatch.setitem(app.config, "EXTERNAL_MODERATION_URL", "http://127.0.0.1:9/moderate")
    monkeypatch.setitem(app.config, "EXTERNAL_MODERATION_SECRET", "")
    monkeypatch.setitem(app.config, "MODERATION_WEBHOOK_SECRET", " ")

    response = client.post("/api/bulk-nsfw/jobs", headers=user.headers, json={"provider": "external"})

    assert response.status_code == 422
    assert "secret" in response.get_json()["error"]["message"]
