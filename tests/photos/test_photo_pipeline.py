"""The session-first flow end to end: API upload, a real RQ worker, objects in S3 (moto over HTTP)."""

import io
import urllib.request
import uuid

from PIL import Image
from sqlalchemy import func, select

from tests.support.factories import image_bytes, upload, wait_until_terminal
from webapp.extensions import db
from webapp.models import PhotoSession, S3Image, VirtualImage
from webapp.queue import enqueue_photo_processing
from webapp.services.photos.processing import process_session

DERIVATIVE_KEYS = ["original.jpg", "processed.avif", "thumbnail_original.jpg", "thumbnail_processed.jpg"]


def test_upload_answers_202_with_ids_and_the_worker_completes_the_photo(
    app, client, user, worker, bucket_keys
):
    response = upload(client, user.headers, image_bytes("JPEG", (3000, 2000)), "holiday.jpg")

    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "pending"
    session_id = body["session_id"]
    uuid.UUID(body["virtual_image_id"])
    assert wait_until_terminal(app, session_id) == "completed"

    photo = client.get(f"/api/photos/{session_id}", headers=user.headers).get_json()
    assert photo["status"] == "completed"
    assert photo["error"] is None
    kinds = {image["kind"]: image for image in photo["images"]}
    assert set(kinds) == {"original", "thumbnail_original", "processed", "thumbnail_processed"}
    assert photo["original_image_id"] == kinds["original"]["image_id"]
    assert photo["processed_image_id"] == kinds["processed"]["image_id"]
    assert all(image["key"].startswith(f"{session_id}/") for image in photo["images"])
    assert photo["moderation"]["virtual_image_id"] == body["virtual_image_id"]
    assert bucket_keys(f"{session_id}/") == [f"{session_id}/{name}" for name in DERIVATIVE_KEYS]
    assert max(kinds["processed"]["width"], kinds["processed"]["height"]) <= 2048


def test_every_url_loads_the_image_it_describes_with_no_credentials(app, client, user, worker):
    session_id = upload(client, user.headers, image_bytes("PNG", (900, 600))).get_json()["session_id"]
    wait_until_terminal(app, session_id)

    photo = client.get(f"/api/photos/{session_id}", headers=user.headers).get_json()
    for image in photo["images"]:
        with urllib.request.urlopen(image["url"], timeout=10) as response:  # a plain GET: no login, no token
            data = response.read()
            cache_control = response.headers["Cache-Control"]
        assert cache_control == f"private, max-age={app.config['IMAGE_URL_EXPIRES']}"
        assert len(data) == image["bytes"]
        decoded = Image.open(io.BytesIO(data))
        assert decoded.size == (image["width"], image["height"])
        assert Image.MIME[decoded.format] == image["content_type"]


def test_no_object_is_stored_outside_the_photos_prefix(app, client, user, worker, bucket_keys):
    ids = [upload(client, user.headers, image_bytes()).get_json()["session_id"] for _ in range(3)]
    for session_id in ids:
        wait_until_terminal(app, session_id)

    keys = [key for key in bucket_keys() if not key.startswith("jobs/")]
    assert sorted(keys) == sorted(f"{sid}/{name}" for sid in ids for name in DERIVATIVE_KEYS)


def test_running_the_pipeline_again_makes_nothing_twice(app, client, user, worker, bucket_keys):
    session_id = upload(client, user.headers, image_bytes()).get_json()["session_id"]
    wait_until_terminal(app, session_id)

    with app.app_context():
        session = db.session.get(PhotoSession, uuid.UUID(session_id))
        session.status = "processing"  # as if a worker died after storing everything
        db.session.commit()
        process_session(uuid.UUID(session_id))
        process_session(uuid.UUID(session_id))
        rows = db.session.scalar(
            select(func.count()).select_from(S3Image).filter_by(session_id=session.session_id)
        )
        assert db.session.get(PhotoSession, uuid.UUID(session_id)).status == "completed"
    assert rows == 4
    assert len(bucket_keys(f"{session_id}/")) == 4


def test_an_original_missing_from_storage_ends_failed_with_a_reason(
    app, client, user, worker, s3, service_env, monkeypatch
):
    with monkeypatch.context() as parked:
        parked.setitem(app.config, "QUEUE_NAME", "nobody-listens-here")
        session_id = upload(client, user.headers, image_bytes()).get_json()["session_id"]
    s3.delete_object(Bucket=service_env["S3_BUCKET"], Key=f"{session_id}/original.jpg")

    with app.app_context():
        enqueue_photo_processing(uuid.UUID(session_id))
    assert wait_until_terminal(app, session_id) == "failed"
    photo = client.get(f"/api/photos/{session_id}", headers=user.headers).get_json()
    assert photo["error"] == "The original is missing from storage."


def test_the_filename_is_kept_for_display_and_never_reaches_a_storage_key(app, client, user, monkeypatch):
    name = "../../etc/<img src=x onerror=alert(1)>.jpg"
    monkeypatch.setitem(app.config, "QUEUE_NAME", "nobody-listens-here")
    body = upload(client, user.headers, image_bytes(), name).get_json()

    with app.app_context():
        virtual_image = db.session.get(VirtualImage, uuid.UUID(body["virtual_image_id"]))
        keys = db.session.scalars(select(S3Image.key)).all()
    assert virtual_image.original_filename == "<img src=x onerror=alert(1)>.jpg"
    assert keys == [f"{body['session_id']}/original.jpg"]
