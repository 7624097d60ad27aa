"""Rekognition in the pipeline, through botocore's Stubber (checked against AWS's service model).

Photos are stored in moto's S3; the pipeline and the bulk steps run in this process so the
stubbed client is the one they use. Results must land on the right image by id, whatever order,
gaps, duplicates or strangers the provider's output holds.
"""

import io
import json
import uuid

import pytest
from botocore.stub import ANY
from PIL import Image

from tests.providers.test_rekognition import Sent, sheet_cells
from tests.support.environment import BUCKET
from tests.support.factories import image_bytes, marked
from webapp.extensions import db
from webapp.models import BulkJob, JobStatus, ModerationStatus, PhotoSession, VirtualImage
from webapp.providers import ModerationUnavailable
from webapp.services.moderation import bulk_moderation
from webapp.services.photos import processing
from webapp.testing.images import heic_bytes

EXPLICIT = [
    {
        "Name": "Exposed Female Nipple",
        "ParentName": "Explicit Nudity",
        "Confidence": 93.1,
        "TaxonomyLevel": 3,
    },
    {"Name": "Explicit Nudity", "ParentName": "Explicit", "Confidence": 93.1, "TaxonomyLevel": 2},
    {"Name": "Explicit", "ParentName": "", "Confidence": 93.1, "TaxonomyLevel": 1},
]
SWIMWEAR = [{"Name": "Swimwear or Underwear", "ParentName": "", "Confidence": 97.0, "TaxonomyLevel": 1}]


def _virtual_image(app, session_id: str) -> VirtualImage:
    with app.app_context():
        return db.session.query(VirtualImage).filter_by(session_id=uuid.UUID(session_id)).one()


def test_a_photo_is_moderated_from_its_stored_object_and_judged_by_policy(
    app, client, user, parked, rekognition
):
    session_id = upload_with_provider(client, user, "rekognition")
    rekognition.add_response(
        "detect_moderation_labels",
        {"ModerationLabels": EXPLICIT, "ModerationModelVersion": "7.0"},
        {
            "Image": {"S3Object": {"Bucket": BUCKET, "Name": f"{session_id}/original.jpg"}},
            "MinConfidence": 50.0,
        },
    )

    with app.app_context():
        processing.process_session(uuid.UUID(session_id))

    image = _virtual_image(app, session_id)
    assert image.moderation_status == ModerationStatus.REJECTED  # Explicit 93 ≥ 80
    assert image.is_nsfw is True
    assert (image.source, image.model_version) == ("rekognition", "7.0")
    assert image.rekognition_data["ModerationLabels"] == EXPLICIT
    photo = client.get(f"/api/photos/{session_id}", headers=user.headers).get_json()
    assert photo["status"] == "completed"
    assert photo["moderation"]["labels"] == EXPLICIT


def test_throttling_is_retried_and_exhausted_retries_end_error_never_approved(
    app, client, user, parked, rekognition
):
    session_id = upload_with_provider(client, user, "rekognition")
    rekognition.add_client_error("detect_moderation_labels", "ThrottlingException", http_status_code=400)

    with app.app_context():
        with pytest.raises(ModerationUnavailable):
            processing.process_session(uuid.UUID(session_id))
        assert _virtual_image(app, session_id).moderation_status == ModerationStatus.PENDING
        processing.give_up(
            uuid.UUID(session_id), "Processing failed after every retry: ModerationUnavailable"
        )

    image = _virtual_image(app, session_id)
    assert image.moderation_status == ModerationStatus.ERROR
    assert image.is_nsfw is None
    photo = client.get(f"/api/photos/{session_id}", headers=user.headers).get_json()
    assert photo["status"] == "completed"  # its derivatives were made; only moderation failed
    assert photo["moderation"]["status"] == "error"


def test_an_image_rekognition_cannot_read_ends_error_at_once(app, client, user, parked, rekognition):
    session_id = upload_with_provider(client, user, "rekognition")
    rekognition.add_client_error("detect_moderation_labels", "InvalidImageFormatException", "bad format", 400)

    with app.app_context():
        processing.process_session(uuid.UUID(session_id))

    image = _virtual_image(app, session_id)
    assert image.moderation_status == ModerationStatus.ERROR
    assert image.moderation_error.startswith("Not moderated: Rekognition cannot read this image")


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (image_bytes("WEBP"), "a.webp"),
        (heic_bytes(marked((640, 480))), "IMG_0001.HEIC"),
        (image_bytes("AVIF"), "a.avif"),
    ],
    ids=["webp", "heic", "avif"],
)
def test_an_original_rekognition_cannot_read_is_moderated_through_its_jpeg_thumbnail(
    app, client, user, parked, rekognition, data, name
):
    session_id = upload_with_provider(client, user, "rekognition", data, name)
    rekognition.add_response(
        "detect_moderation_labels",
        {"ModerationLabels": [], "ModerationModelVersion": "7.0"},
        {
            "Image": {"S3Object": {"Bucket": BUCKET, "Name": f"{session_id}/thumbnail_original.jpg"}},
            "MinConfidence": ANY,
        },
    )

    with app.app_context():
        processing.process_session(uuid.UUID(session_id))

    assert _virtual_image(app, session_id).moderation_status == ModerationStatus.APPROVED


def upload_with_provider(client, user, provider: str, data: bytes | None = None, name: str = "a.jpg") -> str:
    response = client.post(
        "/api/photos/upload",
        headers=user.headers,
        data={"file": (io.BytesIO(data or image_bytes()), name), "provider": provider},
        content_type="multipart/form-data",
    )
    assert response.status_code == 202, response.get_json()
    return response.get_json()["session_id"]


def test_the_bulk_provider_maps_shuffled_gapped_duplicated_and_unknown_results_by_id(
    app, client, user, parked, rekognition, s3
):
    files = [
        (image_bytes(), "0.jpg"),
        (image_bytes(), "1.jpg"),
        (image_bytes("WEBP"), "2.webp"),
        (image_bytes(), "3.jpg"),
    ]
    form = {"files": [(io.BytesIO(data), name) for data, name in files], "provider": "rekognition_bulk"}
    body = client.post(
        "/api/bulk-nsfw/upload", headers=user.headers, data=form, content_type="multipart/form-data"
    )
    body = body.get_json()
    job_id = body["job_id"]
    images = {image["upload_order"]: image for image in body["images"]}
    with app.app_context():
        for image in images.values():
            processing.process_session(uuid.UUID(image["session_id"]))
        assert db.session.get(BulkJob, uuid.UUID(job_id)).processed == 4

    keys = {order: f"{images[order]['session_id']}/original.jpg" for order in (0, 1, 3)}
    keys[2] = f"{images[2]['session_id']}/thumbnail_original.jpg"  # Rekognition takes no WebP
    rekognition.add_response(
        "start_media_analysis_job",
        {"JobId": "rk-job-1"},
        {
            "ClientRequestToken": job_id,
            "JobName": ANY,
            "OperationsConfig": {"DetectModerationLabels": {"MinConfidence": 50.0}},
            "Input": {"S3Object": {"Bucket": BUCKET, "Name": f"jobs/{job_id}/manifest.jsonl"}},
            "OutputConfig": {"S3Bucket": BUCKET, "S3KeyPrefix": f"jobs/{job_id}/output/"},
        },
    )
    with app.app_context():
        bulk_moderation.start_analysis(uuid.UUID(job_id))
    manifest = s3.get_object(Bucket=BUCKET, Key=f"jobs/{job_id}/manifest.jsonl")["Body"].read().decode()
    assert [json.loads(line)["source-ref"] for line in manifest.splitlines()] == [
        f"s3://{BUCKET}/{keys[order]}" for order in range(4)
    ]

    results_key, summary_key = f"jobs/{job_id}/output/results.jsonl", f"jobs/{job_id}/output/summary.json"
    line = lambda order, labels: {  # noqa: E731
        "source-ref": f"s3://{BUCKET}/{keys[order]}",
        "detect-moderation-labels": {"ModerationLabels": labels, "ModerationModelVersion": "7.0"},
    }
    output = [
        line(2, SWIMWEAR),
        line(0, EXPLICIT),
        line(0, []),
        {"source-ref": f"s3://{BUCKET}/someone/else.jpg"},
    ]
    lines = [json.dumps(item) for item in output] + ["not json at all"]  # image 1 is missing, image 3 errored
    s3.put_object(Bucket=BUCKET, Key=results_key, Body="\n".join(lines).encode())
    summary = {"version": "1.0", "errors": [{"line-numer": 4, "code": "INVALID_IMAGE", "message": "corrupt"}]}
    s3.put_object(Bucket=BUCKET, Key=summary_key, Body=json.dumps(summary).encode())
    rekognition.add_response(
        "get_media_analysis_job", _analysis(job_id, "IN_PROGRESS"), {"JobId": "rk-job-1"}
    )
    rekognition.add_response(
        "get_media_analysis_job",
        _analysis(job_id, "SUCCEEDED", results_key, summary_key),
        {"JobId": "rk-job-1"},
    )

    with app.app_context():
        bulk_moderation.poll(uuid.UUID(job_id))
        assert db.session.get(BulkJob, uuid.UUID(job_id)).status == JobStatus.PROCESSING
        bulk_moderation.poll(uuid.UUID(job_id))

    status = client.get(f"/api/bulk-nsfw/{job_id}/status", headers=user.headers).get_json()
    by_order = {image["upload_order"]: image for image in status["images"]}
    assert by_order[0]["moderation_status"] == "rejected"
    assert by_order[0]["labels"] == EXPLICIT  # the first answer, written once
    assert by_order[1]["moderation_status"] == "error"
    assert by_order[1]["error"] == "Rekognition returned no result for this image."
    assert by_order[2]["moderation_status"] == "approved"  # swimwear is not in the default policy
    assert by_order[3]["moderation_status"] == "error"
    assert "corrupt" in by_order[3]["error"]
    assert (status["approved"], status["rejected"], status["failed"], status["pending"]) == (1, 1, 2, 0)
    assert status["status"] == "completed_with_errors"
    assert any("someone/else.jpg" in note for note in status["notes"])
    assert any("Duplicate" in note for note in status["notes"])


def _analysis(
    job_id: str, state: str, results_key: str | None = None, summary_key: str | None = None
) -> dict:
    answer = {
        "JobId": "rk-job-1",
        "OperationsConfig": {"DetectModerationLabels": {"MinConfidence": 50.0}},
        "Status": state,
        "CreationTimestamp": "2026-11-22T00:00:00Z",
        "Input": {"S3Object": {"Bucket": BUCKET, "Name": f"jobs/{job_id}/manifest.jsonl"}},
        "OutputConfig": {"S3Bucket": BUCKET, "S3KeyPrefix": f"jobs/{job_id}/output/"},
    }
    if results_key:
        answer["Results"] = {"S3Object": {"Bucket": BUCKET, "Name": results_key}}
        answer["ManifestSummary"] = {"S3Object": {"Bucket": BUCKET, "Name": summary_key}}
    return answer


def test_a_failed_bulk_analysis_ends_every_pending_image_error_and_the_job_failed(
    app, client, user, parked, rekognition
):
    form = {"files": [(io.BytesIO(image_bytes()), "a.jpg")], "provider": "rekognition_bulk"}
    body = client.post(
        "/api/bulk-nsfw/upload", headers=user.headers, data=form, content_type="multipart/form-data"
    )
    job_id, session_id = body.get_json()["job_id"], body.get_json()["images"][0]["session_id"]
    rekognition.add_response("start_media_analysis_job", {"JobId": "rk-job-2"})
    failed = _analysis(job_id, "FAILED") | {
        "FailureDetails": {"Code": "ACCESS_DENIED", "Message": "no access"}
    }
    rekognition.add_response("get_media_analysis_job", failed, {"JobId": "rk-job-2"})

    with app.app_context():
        processing.process_session(uuid.UUID(session_id))
        bulk_moderation.start_analysis(uuid.UUID(job_id))
        bulk_moderation.poll(uuid.UUID(job_id))
        job = db.session.get(BulkJob, uuid.UUID(job_id))
        session = db.session.get(PhotoSession, uuid.UUID(session_id))
        assert (job.status, job.failed, job.pending) == (JobStatus.FAILED, 1, 0)
        assert "no access" in job.error
        assert session.status == "completed"
    assert _virtual_image(app, session_id).moderation_status == ModerationStatus.ERROR


def test_an_animation_is_sent_to_rekognition_as_a_contact_sheet_of_its_sampled_frames(
    app, client, user, parked, rekognition
):
    colours = ["red", "lime", "blue", "yellow", "cyan", "magenta", "white"]
    pictures = [Image.new("RGB", (400, 300), colour) for colour in colours]
    buffer = io.BytesIO()
    pictures[0].save(buffer, "GIF", save_all=True, append_images=pictures[1:], duration=100)
    session_id = upload_with_provider(client, user, "rekognition", buffer.getvalue(), "a.gif")
    sent = Sent()
    rekognition.add_response(
        "detect_moderation_labels",
        {"ModerationLabels": SWIMWEAR, "ModerationModelVersion": "7.0"},
        {"Image": {"Bytes": sent}, "MinConfidence": 50.0},
    )

    with app.app_context():
        processing.process_session(uuid.UUID(session_id))

    pure = [Image.new("RGB", (1, 1), colour).getpixel((0, 0)) for colour in colours]
    assert sheet_cells(sent.value, 3, 3) == [*pure, (255, 255, 255), (255, 255, 255)]
    image = _virtual_image(app, session_id)
    assert image.rekognition_data["Frames"]["sampled"] == [0, 1, 2, 3, 4, 5, 6]
    decided = client.get(f"/api/photos/{session_id}", headers=user.headers).get_json()["moderation"]
    assert (decided["status"], decided["frame"]) == ("approved", None)
