"""The reconciler: stranded work is queued again from PostgreSQL's truth, and only once in effect."""

import uuid
from datetime import timedelta

import pytest
from rq.job import Job
from sqlalchemy import func, select, update

from tests.support.factories import image_bytes, upload, wait_until_terminal
from webapp.extensions import db
from webapp.models import PhotoSession, S3Image, VirtualImage
from webapp.models.types import utcnow
from webapp.queue import photo_queue, processing_job_id, redis_connection
from webapp.services.operations import reconciler


@pytest.fixture
def stranded(app, client, user, monkeypatch) -> str:
    """A photo committed and stored whose job never reached the queue (a crash between the two)."""
    with monkeypatch.context() as parked:
        parked.setitem(app.config, "QUEUE_NAME", "lost-in-a-crash")
        session_id = upload(client, user.headers, image_bytes()).get_json()["session_id"]
    with app.app_context():
        Job.fetch(processing_job_id(uuid.UUID(session_id)), connection=redis_connection()).delete()
    _age(app, session_id)
    return session_id


def _age(app, session_id: str, seconds: int = 3600) -> None:
    with app.app_context():
        db.session.execute(
            update(PhotoSession)
            .where(PhotoSession.session_id == uuid.UUID(session_id))
            .values(
                updated_at=utcnow() - timedelta(seconds=seconds),
                created_at=utcnow() - timedelta(seconds=seconds),
            )
        )
        db.session.commit()


def test_the_command_queues_a_stranded_photo_and_the_worker_finishes_it(app, stranded, worker, bucket_keys):
    result = app.test_cli_runner().invoke(args=["reconcile"])

    assert "photos: 1" in result.output
    assert wait_until_terminal(app, stranded) == "completed"
    assert len(bucket_keys(f"{stranded}/")) == 4


def test_reconciling_twice_makes_nothing_twice(app, stranded, worker, bucket_keys):
    with app.app_context():
        first = reconciler.reconcile()
        second = reconciler.reconcile()  # the job is queued (live) now: not queued again
    assert (first.photos, second.photos) == ([uuid.UUID(stranded)], [])
    wait_until_terminal(app, stranded)
    with app.app_context():
        db.session.execute(update(PhotoSession).values(status="pending"))  # as if the result were lost too
        db.session.commit()
        reconciler._photos(utcnow() + timedelta(seconds=1))
    wait_until_terminal(app, stranded)
    with app.app_context():
        rows = db.session.scalar(select(func.count()).select_from(S3Image))
    assert rows == 4
    assert len(bucket_keys(f"{stranded}/")) == 4


def test_a_recent_or_live_photo_is_left_alone(app, client, user, monkeypatch):
    monkeypatch.setitem(app.config, "QUEUE_NAME", "nobody-listens-here")
    recent = upload(client, user.headers, image_bytes()).get_json()["session_id"]
    queued = upload(client, user.headers, image_bytes()).get_json()["session_id"]
    _age(app, queued)

    with app.app_context():
        assert reconciler.is_live(processing_job_id(uuid.UUID(queued)))
        assert reconciler.reconcile().photos == []
        assert photo_queue().count == 2
    assert recent != queued


def test_a_lost_photo_of_a_batch_still_uploading_is_queued_again(app, client, user, monkeypatch):
    import io

    monkeypatch.setitem(app.config, "QUEUE_NAME", f"nobody-listens-here-{uuid.uuid4().hex[:6]}")
    job_id = client.post("/api/bulk-nsfw/jobs", headers=user.headers, json={}).get_json()["job_id"]
    form = {"files": [(io.BytesIO(image_bytes()), "a.jpg")]}
    session_id = client.post(
        f"/api/bulk-nsfw/jobs/{job_id}/files",
        headers=user.headers,
        data=form,
        content_type="multipart/form-data",
    ).get_json()["images"][0]["session_id"]
    _age(app, session_id)

    with app.app_context():
        assert reconciler.is_live(processing_job_id(uuid.UUID(session_id)))
        assert reconciler.reconcile().photos == []
        Job.fetch(processing_job_id(uuid.UUID(session_id)), connection=redis_connection()).delete()
        assert reconciler.reconcile().photos == [uuid.UUID(session_id)]


def test_a_half_made_upload_the_database_could_not_undo_is_cleared(app, user, s3, service_env):
    with app.app_context():
        session = PhotoSession(owner_id=user.id, created_at=utcnow() - timedelta(hours=1))
        db.session.add(session)
        db.session.commit()
        session_id = session.session_id
    s3.put_object(Bucket=service_env["S3_BUCKET"], Key=f"{session_id}/original.jpg", Body=b"half")

    with app.app_context():
        report = reconciler.reconcile()
        assert db.session.get(PhotoSession, session_id) is None
    assert report.abandoned_uploads == [session_id]
    assert s3.list_objects_v2(Bucket=service_env["S3_BUCKET"], Prefix=str(session_id)).get("KeyCount") == 0


def test_an_external_image_whose_deadline_check_was_lost_ends_error(app, client, user, monkeypatch):
    import io

    from webapp.services.photos import uploads

    monkeypatch.setitem(app.config, "QUEUE_NAME", "nobody-listens-here")
    with app.app_context():
        owner = db.session.get(uploads.User, user.id)
        accepted = uploads.accept_photo(
            owner, io.BytesIO(image_bytes()), "a.jpg", uploads.Placement("external")
        )
        image = db.session.get(VirtualImage, accepted.virtual_image_id)
        image.external_requested_at = utcnow() - timedelta(hours=2)
        image.external_deadline_at = utcnow() - timedelta(hours=1)
        db.session.commit()

        report = reconciler.reconcile()
        image = db.session.get(VirtualImage, accepted.virtual_image_id, populate_existing=True)
    assert report.external_deadlines == [accepted.virtual_image_id]
    assert image.moderation_status == "error"
