"""Uploads straight to the bucket: presigned POSTs to moto's server, the web's checks at completion, the
worker's check of the whole file, and uploads never completed."""

import base64
import io
import json
import struct
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from tests.support import direct_uploads as direct
from tests.support.environment import BUCKET
from tests.support.factories import image_bytes, wait_until_terminal
from webapp.extensions import db
from webapp.models import DirectUpload, PhotoSession, S3Image, User, VirtualImage
from webapp.services.operations import reconciler
from webapp.services.photos import deletion
from webapp.services.photos.processing import process_session
from webapp.testing.bombs import gif_of_frames


def bilevel_png(size: tuple[int, int]) -> bytes:
    """A few kilobytes that decode to `size`: one bit a pixel, all zero."""
    buffer = io.BytesIO()
    Image.new("1", size).save(buffer, "PNG")
    return buffer.getvalue()


def received_bytes(client) -> int:
    """What `/metrics` says the web has received in request bodies."""
    for line in client.get("/metrics").get_data(as_text=True).splitlines():
        if line.startswith("photogate_http_received_bytes_total "):
            return int(float(line.split()[1]))
    raise AssertionError("no photogate_http_received_bytes_total in /metrics")


def policy(upload: dict) -> dict:
    return json.loads(base64.b64decode(upload["fields"]["policy"]))


def test_the_server_offers_direct_uploads_with_s3_and_says_within_what(client, user, app):
    offer = client.get("/api/uploads", headers=user.headers).get_json()

    assert offer["direct"] is True
    assert offer["max_file_bytes"] == app.config["MAX_FILE_BYTES"]
    assert "image/jpeg" in offer["content_types"] and "image/heic" in offer["content_types"]
    assert offer["expires_in"] == app.config["DIRECT_UPLOAD_EXPIRES"]


def test_a_photo_sent_straight_to_the_bucket_is_checked_queued_and_processed(
    app, client, user, worker, bucket_keys
):
    data = image_bytes("JPEG", (1200, 800))
    before = received_bytes(client)
    (upload,) = direct.issue(client, user.headers, [direct.declared(data, "beach.jpg")])["uploads"]
    session_id = upload["session_id"]

    # The policy S3 enforces: this one key of the photo's folder, exactly this size and type, soon over.
    conditions = policy(upload)["conditions"]
    assert {"key": f"{session_id}/original.jpg"} in conditions
    assert ["content-length-range", len(data), len(data)] in conditions
    assert {"Content-Type": "image/jpeg"} in conditions
    expires = datetime.fromisoformat(policy(upload)["expiration"].replace("Z", "+00:00"))
    assert (
        timedelta(0) < expires - datetime.now(UTC) <= timedelta(seconds=app.config["DIRECT_UPLOAD_EXPIRES"])
    )

    assert direct.post_to_bucket(upload, data, "beach.jpg").status_code == 204
    response = direct.complete(client, user.headers, upload)
    assert response.status_code == 202
    assert response.get_json()["session_id"] == session_id
    assert wait_until_terminal(app, session_id) == "completed"

    photo = client.get(f"/api/photos/{session_id}", headers=user.headers).get_json()
    original = next(image for image in photo["images"] if image["kind"] == "original")
    assert (original["key"], original["bytes"], original["width"], original["height"]) == (
        f"{session_id}/original.jpg",
        len(data),
        1200,
        800,
    )
    assert all(key.startswith(f"{session_id}/") for key in bucket_keys())
    # Only the small JSON requests reached the web; the file went to the bucket.
    assert received_bytes(client) - before < 2000 < len(data)


def test_completing_again_answers_the_same_and_stores_nothing_twice(app, client, user, parked):
    data = image_bytes("PNG", (300, 200))
    (upload,) = direct.issue(client, user.headers, [direct.declared(data, "a.png")])["uploads"]
    direct.post_to_bucket(upload, data)

    first = direct.complete(client, user.headers, upload)
    second = direct.complete(client, user.headers, upload)

    assert first.status_code == second.status_code == 202
    assert first.get_json() == second.get_json()
    with app.app_context():
        assert db.session.query(VirtualImage).count() == 1


def test_completing_before_the_file_arrives_says_so_and_the_upload_stays_open(client, user, parked):
    data = image_bytes("JPEG", (300, 200))
    (upload,) = direct.issue(client, user.headers, [direct.declared(data)])["uploads"]

    early = direct.complete(client, user.headers, upload)
    assert early.status_code == 409
    assert early.get_json()["error"]["code"] == "upload_missing"
    assert client.get("/api/photos", headers=user.headers).get_json()["total"] == 0  # no photo yet

    direct.post_to_bucket(upload, data)
    assert direct.complete(client, user.headers, upload).status_code == 202


@pytest.mark.parametrize(
    ("data", "code", "status"),
    [
        (b"<html>not a photo</html>" * 10, "unsupported_image", 415),
        (bilevel_png((10_000, 10_000)), "too_many_pixels", 422),
    ],
    ids=["not-an-image", "too-many-pixels"],
)
def test_a_refused_file_is_deleted_from_the_bucket_with_its_upload(
    app, client, user, parked, bucket_keys, data, code, status
):
    (upload,) = direct.issue(client, user.headers, [direct.declared(data, "photo.jpg")])["uploads"]
    direct.post_to_bucket(upload, data)

    response = direct.complete(client, user.headers, upload)

    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert bucket_keys() == []
    with app.app_context():
        assert db.session.get(PhotoSession, uuid.UUID(upload["session_id"])) is None
    assert direct.complete(client, user.headers, upload).status_code == 404


def test_an_object_other_than_the_declared_size_is_refused(client, user, parked, bucket_keys):
    # S3 itself refuses such a POST (content-length-range); moto's server does not check policies.
    data = image_bytes("JPEG", (300, 200))
    (upload,) = direct.issue(client, user.headers, [direct.declared(data)])["uploads"]
    direct.post_to_bucket(upload, data + b"\0" * 100)

    response = direct.complete(client, user.headers, upload)

    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "size_mismatch"
    assert bucket_keys() == []


def test_an_empty_object_is_refused_as_not_the_declared_size(client, user, parked, bucket_keys):
    data = image_bytes("JPEG", (300, 200))
    (upload,) = direct.issue(client, user.headers, [direct.declared(data)])["uploads"]
    direct.post_to_bucket(upload, b"")

    response = direct.complete(client, user.headers, upload)

    assert (response.status_code, response.get_json()["error"]["code"]) == (422, "size_mismatch")
    assert bucket_keys() == []


def test_a_jpeg_with_metadata_past_the_first_read_is_read_further(app, client, user, parked):
    # Two 60 KB application segments before the frame header: its size is past the first 64 KiB.
    data = image_bytes("JPEG", (640, 480))
    segment = b"\xff\xef" + struct.pack(">H", 60_002) + b"\0" * 60_000
    data = data[:2] + segment * 2 + data[2:]
    (upload,) = direct.issue(client, user.headers, [direct.declared(data)])["uploads"]
    direct.post_to_bucket(upload, data)

    assert direct.complete(client, user.headers, upload).status_code == 202
    with app.app_context():
        original = db.session.scalar(
            select(S3Image).where(S3Image.session_id == uuid.UUID(upload["session_id"]))
        )
        assert (original.width, original.height) == (640, 480)


def test_files_refused_for_what_they_declare_get_no_post(client, user, app):
    limit = app.config["MAX_FILE_BYTES"]
    files = [
        {"filename": "huge.jpg", "size": limit + 1, "content_type": "image/jpeg", "sha256": "0" * 64},
        {"filename": "page.html", "size": 10, "content_type": "text/html", "sha256": "0" * 64},
        {"filename": "empty.jpg", "size": 0, "content_type": "image/jpeg", "sha256": "0" * 64},
    ]

    answer = direct.issue(client, user.headers, files)

    assert answer["uploads"] == []
    assert [(file["filename"], file["error"]["code"]) for file in answer["rejected"]] == [
        ("huge.jpg", "file_too_large"),
        ("page.html", "unsupported_image"),
        ("empty.jpg", "empty_file"),
    ]


def test_a_file_declared_as_another_type_is_kept_as_what_it_is(app, client, user, parked, bucket_keys):
    data = image_bytes("PNG", (320, 240))  # a PNG a browser called a JPEG by its name
    (upload,) = direct.issue(client, user.headers, [direct.declared(data, "photo.jpg")])["uploads"]
    direct.post_to_bucket(upload, data)

    assert direct.complete(client, user.headers, upload).status_code == 202

    session_id = upload["session_id"]
    assert bucket_keys() == [f"{session_id}/original.png"]
    with app.app_context():
        original = db.session.scalar(select(S3Image).where(S3Image.session_id == uuid.UUID(session_id)))
        assert (original.key, original.content_type) == (f"{session_id}/original.png", "image/png")


def test_someone_else_cannot_complete_or_see_an_upload(client, user, other_user, parked):
    data = image_bytes("JPEG", (300, 200))
    (upload,) = direct.issue(client, user.headers, [direct.declared(data)])["uploads"]
    direct.post_to_bucket(upload, data)

    response = direct.complete(client, other_user.headers, upload)

    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert direct.complete(client, user.headers, upload).status_code == 202


def test_the_worker_checks_the_whole_file_and_records_what_it_really_is(app, client, user, parked):
    # A WebP's headers cannot be read from its first bytes: it passes on its signature, sizes unknown,
    # and the SHA-256 the client declared is not the file's.
    data = io.BytesIO()
    Image.effect_noise((1600, 1200), 64).convert("RGB").save(data, "WEBP", quality=95)
    data = data.getvalue()
    assert len(data) > 64 * 1024
    file = direct.declared(data, "big.webp") | {"sha256": "ab" * 32}
    (upload,) = direct.issue(client, user.headers, [file])["uploads"]
    direct.post_to_bucket(upload, data)
    assert direct.complete(client, user.headers, upload).status_code == 202

    session_id = uuid.UUID(upload["session_id"])
    with app.app_context():
        process_session(session_id)
        session = db.session.get(PhotoSession, session_id)
        original = db.session.get(S3Image, session.original_image_id)
        assert session.status.value == "completed"
        assert (original.width, original.height) == (1600, 1200)
        assert original.sha256 == session.virtual_image.sha256 == direct.declared(data)["sha256"]


def test_what_only_the_whole_file_shows_fails_the_photo_in_the_worker(app, client, user, parked, monkeypatch):
    # The frames past the first bytes the web read: too many, as the worker counts them all.
    data = gif_of_frames(30_000)
    monkeypatch.setitem(app.config, "MAX_IMAGE_FRAMES", 20_000)
    (upload,) = direct.issue(client, user.headers, [direct.declared(data, "many.gif")])["uploads"]
    direct.post_to_bucket(upload, data)
    assert direct.complete(client, user.headers, upload).status_code == 202

    session_id = uuid.UUID(upload["session_id"])
    with app.app_context():
        process_session(session_id)
        session = db.session.get(PhotoSession, session_id)
        assert session.status.value == "failed"
        assert "20,000 frames" in session.error
        assert session.virtual_image.moderation_status.value == "error"


def test_an_upload_never_completed_is_removed_with_its_object(
    app, client, user, parked, bucket_keys, monkeypatch
):
    data = image_bytes("JPEG", (300, 200))
    (sent, forgotten) = direct.issue(
        client, user.headers, [direct.declared(data, "sent.jpg"), direct.declared(data, "forgotten.jpg")]
    )["uploads"]
    for upload in (sent, forgotten):
        direct.post_to_bucket(upload, data)
    direct.complete(client, user.headers, sent)

    with app.app_context():
        assert reconciler.reconcile().expired_direct_uploads == []  # within its time: left alone
        monkeypatch.setitem(app.config, "DIRECT_UPLOAD_ABANDON_AFTER", 0)
        report = reconciler.reconcile()

    assert report.expired_direct_uploads == [uuid.UUID(forgotten["session_id"])]
    assert bucket_keys() == [f"{sent['session_id']}/original.jpg"]
    assert direct.complete(client, user.headers, forgotten).status_code == 404


def test_a_job_filled_straight_to_the_bucket(app, client, user, parked, bucket_keys):
    job_id = client.post("/api/bulk-nsfw/jobs", headers=user.headers, json={}).get_json()["job_id"]
    files = {order: image_bytes("JPEG", (200 + order, 150)) for order in range(3)}
    answer = direct.issue(
        client,
        user.headers,
        [direct.declared(data, f"{order}.jpg", upload_order=order) for order, data in files.items()],
        job_id=job_id,
    )
    uploads = {upload["upload_order"]: upload for upload in answer["uploads"]}
    assert sorted(uploads) == [0, 1, 2]

    # Asked again (its answer lost): the same upload. Another file at a taken place: refused.
    again = direct.issue(
        client, user.headers, [direct.declared(files[0], "0.jpg", upload_order=0)], job_id=job_id
    )
    assert again["uploads"][0]["session_id"] == uploads[0]["session_id"]
    clash = direct.issue(
        client, user.headers, [direct.declared(files[1], "x.jpg", upload_order=0)], job_id=job_id
    )
    assert clash["rejected"][0]["error"]["code"] == "duplicate_upload_order"

    for order in (0, 1):
        direct.post_to_bucket(uploads[order], files[order])
        assert direct.complete(client, user.headers, uploads[order]).status_code == 202
    direct.post_to_bucket(uploads[2], files[2])  # sent, never completed

    checked = client.post(
        f"/api/bulk-nsfw/jobs/{job_id}/check",
        headers=user.headers,
        json={
            "files": [
                {"sha256": direct.declared(data)["sha256"], "size": len(data)} for data in files.values()
            ]
        },
    ).get_json()
    assert [file["status"] for file in checked["files"]] == ["present", "present", "missing"]
    assert checked["next_upload_order"] == 3

    submitted = client.post(f"/api/bulk-nsfw/jobs/{job_id}/submit", headers=user.headers)
    assert submitted.get_json()["total"] == 2
    # The job takes no more files: the one never completed is gone, object too.
    assert bucket_keys() == sorted(f"{uploads[order]['session_id']}/original.jpg" for order in (0, 1))
    assert direct.complete(client, user.headers, uploads[2]).status_code == 404
    with app.app_context():
        assert db.session.query(DirectUpload).filter(DirectUpload.completed_at.is_(None)).count() == 0


def test_without_direct_uploads_clients_are_sent_through_the_server(client, user, app, monkeypatch):
    monkeypatch.setitem(app.config, "DIRECT_UPLOADS", False)

    assert client.get("/api/uploads", headers=user.headers).get_json()["direct"] is False
    file = direct.declared(image_bytes("JPEG", (300, 200)))
    response = client.post("/api/uploads", headers=user.headers, json={"files": [file]})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "direct_uploads_unavailable"


def test_deleting_an_account_deletes_what_it_was_still_sending(app, client, user, parked, bucket_keys):
    data = image_bytes("JPEG", (300, 200))
    (upload,) = direct.issue(client, user.headers, [direct.declared(data)])["uploads"]
    direct.post_to_bucket(upload, data)

    with app.app_context():
        deletion.delete_account(db.session.get(User, user.id))

    assert bucket_keys() == []


@pytest.fixture
def bucket_cors(s3):
    """The bucket's CORS rules, put back as they were after the test: the browser tests' pages need them."""
    try:
        rules = s3.get_bucket_cors(Bucket=BUCKET)["CORSRules"]
    except s3.exceptions.ClientError:
        rules = None  # none set yet
    yield
    if rules is None:
        s3.delete_bucket_cors(Bucket=BUCKET)
    else:
        s3.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": rules})


def test_the_bucket_takes_posts_from_the_pages_origin_once_told(app, s3, bucket_cors):
    result = app.test_cli_runner().invoke(args=["storage", "cors", "https://photos.example.com/some/path"])

    assert result.exit_code == 0, result.output
    (rule,) = s3.get_bucket_cors(Bucket=BUCKET)["CORSRules"]
    assert rule["AllowedOrigins"] == ["https://photos.example.com"]
    assert rule["AllowedMethods"] == ["POST"]
