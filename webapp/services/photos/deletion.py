"""Deleting a photo, a whole job or an account: every object of each photo, the rows, right counters.

Objects go first: if storage is down nothing changes and the caller answers 503; once they are
gone the rows go in one transaction, so nothing is left pointing at a deleted object.
"""

from sqlalchemy import delete, select

from webapp.extensions import db
from webapp.models import BulkJob, DirectUpload, PhotoSession, S3Image, User
from webapp.services.jobs import bulk_jobs, job_counters
from webapp.services.photos import photos
from webapp.storage import get_storage

JOB_FILES = "jobs/{job_id}/"


def delete_photo(viewer: User, session_id: str) -> None:
    """Delete one photo the viewer owns (or any, for an admin); its job's counters follow."""
    session = photos.find_session_to_change(viewer, session_id)
    get_storage().delete_prefix(session.prefix)
    entry = session.virtual_image and session.virtual_image.job_entry
    job_id = entry.job_id if entry else None
    # The database cascades to its objects' rows, its virtual image, mapping row and reviews.
    db.session.execute(delete(PhotoSession).where(PhotoSession.session_id == session.session_id))
    if job_id:
        job_counters.recount(job_id)
    db.session.commit()


def delete_job(viewer: User, job_id: str) -> None:
    """Delete a job, every photo of it and its job files."""
    job = bulk_jobs.find_job(viewer, job_id)
    sessions = list(db.session.scalars(bulk_jobs.job_sessions(job.id)))
    keys = list(db.session.scalars(select(S3Image.key).where(S3Image.session_id.in_(sessions))))
    unfinished = select(DirectUpload.session_id).where(
        DirectUpload.job_id == job.id, DirectUpload.completed_at.is_(None)
    )
    keys += _unfinished_upload_keys(unfinished)
    sessions += list(db.session.scalars(unfinished))
    storage = get_storage()
    storage.delete_keys(keys)
    storage.delete_prefix(JOB_FILES.format(job_id=job.id))
    db.session.execute(delete(PhotoSession).where(PhotoSession.session_id.in_(sessions)))
    db.session.execute(delete(BulkJob).where(BulkJob.id == job.id))
    db.session.commit()


def delete_account(user: User) -> None:
    """Delete an account, every photo and job it owns (their objects too), and its API tokens."""
    sessions = select(PhotoSession.session_id).where(PhotoSession.owner_id == user.id)
    keys = list(db.session.scalars(select(S3Image.key).where(S3Image.session_id.in_(sessions))))
    keys += _unfinished_upload_keys(sessions)
    jobs = list(db.session.scalars(select(BulkJob.id).where(BulkJob.owner_id == user.id)))
    storage = get_storage()
    storage.delete_keys(keys)
    for job_id in jobs:
        storage.delete_prefix(JOB_FILES.format(job_id=job_id))
    # The database cascades from the account to its tokens, jobs and photos, and from those to theirs.
    db.session.execute(delete(User).where(User.id == user.id))
    db.session.commit()


def _unfinished_upload_keys(sessions) -> list[str]:
    """Where clients were sending files straight to the bucket, among `sessions`: such an object may
    be there without a row of its own."""
    return list(
        db.session.scalars(
            select(DirectUpload.key).where(
                DirectUpload.session_id.in_(sessions), DirectUpload.completed_at.is_(None)
            )
        )
    )
