"""The cascade through real workers: a first provider's uncertain answers, and only those, go to a second.

Rekognition is a stand-in on loopback answering by each photo's colour (red: explicit, orange: unsure,
teal: nothing); the second provider is the stand-in vendor, which the test answers as the vendor would.
"""

import io
import uuid

import pytest
from flask import Flask
from PIL import Image

from tests.support.environment import REQUEST_SECRET, WEBHOOK_SECRET
from tests.support.factories import image_bytes, wait_for
from tests.support.jobs import wait_for_job
from tests.support.pages import signed_in
from tests.support.processes import start_worker, stop
from tests.support.rekognition_standin import RekognitionStandIn
from tests.support.standin import StandIn, call_back
from webapp.extensions import db
from webapp.models import VirtualImage
from webapp.providers import ModerationResult
from webapp.providers.rekognition_bulk import BulkOutcome
from webapp.services.moderation import bulk_moderation
from webapp.services.photos import processing

BAND = "Explicit=20-80"


def explicit(confidence: float) -> list[dict]:
    return [{"Name": "Explicit", "ParentName": "", "Confidence": confidence, "TaxonomyLevel": 1}]


def by_colour(pixels: Image.Image) -> list[dict]:
    """Red is surely explicit (95), orange unsure (55, in the band), anything else shows nothing."""
    red, green, _ = pixels.getpixel((pixels.width // 2, pixels.height // 2))
    if red > 200 and green < 80:
        return explicit(95.0)
    if red > 200 and green < 200:
        return explicit(55.0)
    return []


@pytest.fixture
def cascade(app, service_env, live_server, monkeypatch):
    """A worker whose Rekognition is the colour stand-in and whose second opinion is the stand-in vendor."""
    queue = f"{service_env['QUEUE_NAME']}-cascade-{uuid.uuid4().hex[:4]}"
    with (
        RekognitionStandIn(service_env["S3_ENDPOINT_URL"], by_colour) as rekognition,
        StandIn(verifying_secret=REQUEST_SECRET) as vendor,
    ):
        settings = {
            "QUEUE_NAME": queue,
            "REKOGNITION_ENDPOINT_URL": rekognition.url,
            "EXTERNAL_MODERATION_URL": vendor.url,
            "PUBLIC_BASE_URL": live_server,
            "MODERATION_ESCALATE": "external",
            "MODERATION_ESCALATE_BAND": BAND,
        }
        for name, value in settings.items():
            monkeypatch.setitem(app.config, name, value)
        process = start_worker(service_env, settings)
        yield rekognition, vendor
        stop(process)


def test_only_the_uncertain_photos_of_a_batch_go_to_the_second_provider_whose_answer_decides(
    app, client, user, moderator, admin, cascade
):
    rekognition, vendor = cascade
    colours = ["teal"] * 5 + ["red"] * 2 + ["orange"] * 3
    # Sizes differ so that no photo is a duplicate of another, decided by its verdict.
    files = [
        (io.BytesIO(image_bytes(size=(640 + i, 480), color=colour)), f"{i}-{colour}.jpg")
        for i, colour in enumerate(colours)
    ]
    response = client.post(
        "/api/bulk-nsfw/upload",
        headers=user.headers,
        data={"files": files, "provider": "rekognition"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 202, response.get_json()
    images = {image["filename"]: image["virtual_image_id"] for image in response.get_json()["images"]}
    unsure = {images[name] for name in images if "orange" in name}

    requests = vendor.wait_for_requests(3)
    wait_for(lambda: len(rekognition.asked) == len(colours))
    assert {request.body["virtual_image_id"] for request in requests} == unsure
    assert len(vendor.received) == 3  # the sure answers went nowhere: 3 of 10 escalated
    for request in requests:
        verdict = {"virtual_image_id": request.body["virtual_image_id"], "verdict": "approved", "labels": []}
        status, body = call_back(request.body["callback_url"], WEBHOOK_SECRET, verdict)
        assert (status, body["status"]) == (200, "applied"), body

    job = wait_for_job(client, user.headers, response.get_json()["job_id"])
    verdicts = {image["filename"]: image["moderation_status"] for image in job["images"]}
    assert verdicts == {
        name: {"teal": "approved", "red": "rejected", "orange": "approved"}[name.split("-")[1][:-4]]
        for name in images
    }

    session_of = {image["virtual_image_id"]: image["session_id"] for image in job["images"]}
    escalated = session_of[sorted(unsure)[0]]
    seen_by_moderator = photo_moderation(client, moderator.headers, escalated)
    assert seen_by_moderator["source"] == "external"
    assert seen_by_moderator["second_opinion"] == {
        "escalated_to": "external",
        "band": {"Explicit": [20.0, 80.0]},
        "first": {
            "source": "rekognition",
            "model_version": "7.0",
            "labels": explicit(55.0),
            "verdict": "flagged",
        },
    }
    seen_by_uploader = photo_moderation(client, user.headers, escalated)
    assert seen_by_uploader["second_opinion"] == {"escalated_to": "external", "band": None, "first": None}
    assert seen_by_uploader["labels"] == []
    assert (
        photo_moderation(client, moderator.headers, session_of[images["0-teal.jpg"]])["second_opinion"]
        is None
    )

    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'photogate_moderation_escalated{provider="external"} 3.0' in metrics
    assert 'photogate_moderation_escalated{provider="rekognition"} 0.0' in metrics
    assert "photogate_moderation_answered 10.0" in metrics
    page = signed_in(app.test_client(), admin).get("/admin/queues").get_data(as_text=True)
    assert "Second opinion: 3 of 10 photos (30 %) went to external." in page
    photo_page = signed_in(app.test_client(), moderator).get(f"/photos/{escalated}").get_data(as_text=True)
    assert "First answer, by rekognition: flagged" in photo_page


def photo_moderation(client, headers: dict[str, str], session_id: str) -> dict:
    response = client.get(f"/api/photos/{session_id}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["moderation"]


def test_a_malformed_band_stops_the_server_at_its_start(app: Flask, service_env, monkeypatch):
    from webapp import create_app
    from webapp.providers.cascade import InvalidEscalation

    monkeypatch.setenv("MODERATION_ESCALATE", "rekognition")
    monkeypatch.setenv("MODERATION_ESCALATE_BAND", "Explicit=80-20")
    with pytest.raises(InvalidEscalation, match=r"'Explicit=80-20' needs 0 <= low <= high <= 100"):
        create_app({"TESTING": True})


def test_an_uncertain_local_answer_is_decided_by_rekognition_in_the_same_job(
    app, client, user, moderator, parked, rekognition, monkeypatch
):
    # The local model finds nothing on a plain photo: Explicit at 0, inside a band that starts at 0.
    monkeypatch.setitem(app.config, "MODERATION_ESCALATE", "rekognition")
    monkeypatch.setitem(app.config, "MODERATION_ESCALATE_BAND", "Explicit=0-40")
    response = client.post(
        "/api/photos/upload",
        headers=user.headers,
        data={"file": (io.BytesIO(image_bytes()), "a.jpg"), "provider": "local"},
        content_type="multipart/form-data",
    )
    session_id = response.get_json()["session_id"]
    rekognition.add_response(
        "detect_moderation_labels", {"ModerationLabels": explicit(91.0), "ModerationModelVersion": "7.0"}
    )

    with app.app_context():
        processing.process_session(uuid.UUID(session_id))

    seen = photo_moderation(client, moderator.headers, session_id)
    assert (seen["status"], seen["source"], seen["labels"]) == ("rejected", "rekognition", explicit(91.0))
    assert seen["second_opinion"]["escalated_to"] == "rekognition"
    assert seen["second_opinion"]["first"]["source"] == "local"
    assert seen["second_opinion"]["first"]["verdict"] == "approved"
    assert seen["second_opinion"]["band"] == {"Explicit": [0.0, 40.0]}


def test_a_bulk_analysis_hands_only_its_uncertain_results_to_the_vendor(
    app, client, user, moderator, parked, monkeypatch
):
    monkeypatch.setitem(app.config, "MODERATION_ESCALATE", "external")
    monkeypatch.setitem(app.config, "MODERATION_ESCALATE_BAND", BAND)
    monkeypatch.setitem(app.config, "EXTERNAL_MODERATION_URL", "http://127.0.0.1:9/parked")
    files = [(io.BytesIO(image_bytes(size=(640 + i, 480))), f"{i}.jpg") for i in range(3)]
    body = client.post(
        "/api/bulk-nsfw/upload",
        headers=user.headers,
        data={"files": files, "provider": "rekognition_bulk"},
        content_type="multipart/form-data",
    ).get_json()
    ids = [uuid.UUID(image["virtual_image_id"]) for image in body["images"]]
    answers = [explicit(95.0), explicit(55.0), []]
    outcome = BulkOutcome(
        {
            image_id: ModerationResult(labels, "7.0", "rekognition_bulk")
            for image_id, labels in zip(ids, answers, strict=True)
        }
    )

    with app.app_context():
        for image in body["images"]:
            processing.process_session(uuid.UUID(image["session_id"]))
        bulk_moderation.write_outcome(uuid.UUID(body["job_id"]), outcome)
        handed_over = {image.id for image in db.session.query(VirtualImage) if image.external_requested_at}

    assert handed_over == {ids[1]}
    status = client.get(f"/api/bulk-nsfw/{body['job_id']}/status", headers=user.headers).get_json()
    assert status["status"] == "processing"
    assert [image["moderation_status"] for image in status["images"]] == ["rejected", "pending", "approved"]
    pending = photo_moderation(client, moderator.headers, body["images"][1]["session_id"])
    assert pending["second_opinion"]["first"]["labels"] == explicit(55.0)
