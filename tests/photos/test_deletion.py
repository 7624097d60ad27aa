"""Deleting a photo or a job: objects under the prefix, rows, and the job's counters all follow."""

import io
import uuid

from sqlalchemy import func, select

from tests.support.factories import image_bytes, upload, wait_until_terminal
from tests.support.jobs import wait_for_job
from webapp import create_app
from webapp.extensions import db
from webapp.models import BulkJobImage, ModerationReview, PhotoSession, Role, S3Image, VirtualImage
from webapp.testing.servers import free_port


def counts(app) -> tuple[int, int, int, int]:
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(table))
            for table in (PhotoSession, S3Image, VirtualImage, BulkJobImage)
        )


def test_deleting_a_photo_removes_its_objects_and_rows(app, client, user, worker, bucket_keys):
    session_id = upload(client, user.headers, image_bytes()).get_json()["session_id"]
    wait_until_terminal(app, session_id)

    response = client.delete(f"/api/photos/{session_id}", headers=user.headers)

    assert response.status_code == 204
    assert bucket_keys(f"{session_id}/") == []
    assert counts(app) == (0, 0, 0, 0)
    assert client.get(f"/api/photos/{session_id}", headers=user.headers).status_code == 404


def test_someone_else_cannot_delete_a_photo(app, client, user, other_user, worker, bucket_keys):
    session_id = upload(client, user.headers, image_bytes()).get_json()["session_id"]
    wait_until_terminal(app, session_id)

    assert client.delete(f"/api/photos/{session_id}", headers=other_user.headers).status_code == 404
    assert len(bucket_keys(f"{session_id}/")) == 4


def test_deleting_a_photo_of_a_job_keeps_the_jobs_counters_right(app, client, user, worker):
    form = {"files": [(io.BytesIO(image_bytes()), f"{n}.jpg") for n in range(3)]}
    body = client.post(
        "/api/bulk-nsfw/upload", headers=user.headers, data=form, content_type="multipart/form-data"
    )
    job_id, images = body.get_json()["job_id"], body.get_json()["images"]
    wait_for_job(client, user.headers, job_id)

    client.delete(f"/api/photos/{images[1]['session_id']}", headers=user.headers)

    status = client.get(f"/api/bulk-nsfw/{job_id}/status", headers=user.headers).get_json()
    assert (status["total"], status["approved"], status["processed"], status["pending"]) == (2, 2, 2, 0)
    assert [image["upload_order"] for image in status["images"]] == [0, 2]


def test_deleting_a_job_removes_every_photo_and_job_file(
    app, client, user, worker, bucket_keys, s3, service_env
):
    form = {"files": [(io.BytesIO(image_bytes()), f"{n}.jpg") for n in range(2)]}
    job_id = client.post(
        "/api/bulk-nsfw/upload", headers=user.headers, data=form, content_type="multipart/form-data"
    ).get_json()["job_id"]
    wait_for_job(client, user.headers, job_id)
    s3.put_object(Bucket=service_env["S3_BUCKET"], Key=f"jobs/{job_id}/manifest.jsonl", Body=b"{}")

    response = client.delete(f"/api/bulk-nsfw/jobs/{job_id}", headers=user.headers)

    assert response.status_code == 204
    assert bucket_keys() == []
    assert counts(app) == (0, 0, 0, 0)
    assert client.get(f"/api/bulk-nsfw/{job_id}/status", headers=user.headers).status_code == 404


def test_with_storage_down_a_delete_is_a_503_and_changes_nothing(app, client, user, worker, bucket_keys):
    session_id = upload(client, user.headers, image_bytes()).get_json()["session_id"]
    wait_until_terminal(app, session_id)
    cut_off = create_app({"TESTING": True, "S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"})

    response = cut_off.test_client().delete(f"/api/photos/{session_id}", headers=user.headers)

    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert counts(app)[:3] == (1, 4, 1)
    assert len(bucket_keys(f"{session_id}/")) == 4


def test_a_reviewed_photo_deletes_with_its_audit_trail(app, client, user, worker):
    from tests.support.factories import make_user
    from webapp.services.moderation import reviews
    from webapp.services.photos import uploads

    session_id = upload(client, user.headers, image_bytes()).get_json()["session_id"]
    wait_until_terminal(app, session_id)
    admin = make_user(app, "admin@example.com", role=Role.ADMIN)
    with app.app_context():
        image_id = db.session.scalar(
            select(VirtualImage.id).where(VirtualImage.session_id == uuid.UUID(session_id))
        )
        reviews.decide(db.session.get(uploads.User, admin.id), image_id, "rejected", "no")

    assert client.delete(f"/api/photos/{session_id}", headers=admin.headers).status_code == 204
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ModerationReview)) == 0
