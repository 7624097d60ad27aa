"""Uploads straight to the bucket: the web signs where a file may go, the client sends it, the web checks it.

A batch's bytes never pass through the web tier. For each file the client declares (name, size,
content type, SHA-256) a session is committed first, as for any upload, and the client gets a
presigned POST for `{session_id}/original.<ext>` alone, exactly that size and type, valid for
DIRECT_UPLOAD_EXPIRES seconds. When the client says it is done, the web reads the object's first bytes
and its size (one ranged GET), applies the upload's header rules, and queues the photo; a refused
object is deleted. The worker checks the whole file (and its SHA-256) again
before it decodes it. Uploads never completed are removed by the reconciler.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from webapp.errors import AppError, FileTooLarge, NotFound, ServiceUnavailable, parse_id
from webapp.extensions import db
from webapp.imaging import FORMATS, DeclaredImage, EmptyFile, InvalidImage, UnsupportedImage, inspect_start
from webapp.models import BulkJob, BulkJobImage, DirectUpload, PhotoSession, User
from webapp.models.types import utcnow
from webapp.queue import enqueue_photo_processing
from webapp.services.jobs import bulk_jobs, upload_refusals
from webapp.services.jobs.upload_refusals import Refusal
from webapp.services.photos.uploads import (
    AcceptedPhoto,
    DuplicateUploadOrder,
    Placement,
    StoredOriginal,
    record_original,
    upload_limits,
)
from webapp.storage import ObjectMissing, StorageUnavailable, get_storage

log = logging.getLogger(__name__)

# The content types a client may declare, with the extension of the key they are sent to.
CONTENT_TYPES = {content_type: extension for extension, content_type in FORMATS.values()} | {
    "image/heif": "heic"
}
# What the web reads of an object to check its headers (one ranged GET, which also tells its size):
# most formats say all in their first 64 KiB; a JPEG with large metadata before its frame header is
# read again further, once.
HEADER_READS = (64 * 1024, 1024 * 1024)


class DirectUploadsUnavailable(AppError):
    code = "direct_uploads_unavailable"
    status = 409
    message = "This server takes uploads itself: send files to /api/photos/upload or the batch API."


class UploadMissing(AppError):
    code = "upload_missing"
    status = 409
    message = "Nothing was uploaded for this session yet: send the file to its URL, then complete it."


class SizeMismatch(AppError):
    code = "size_mismatch"
    status = 422


@dataclass(frozen=True)
class DeclaredFile:
    """A file a client is about to send: what it says the file is, and its place in the job, if any."""

    filename: str
    size: int
    content_type: str
    sha256: str
    upload_order: int | None = None


@dataclass(frozen=True)
class IssuedUpload:
    """Where and how a client sends one file: its session, and the presigned POST (`url`, `fields`)."""

    session_id: uuid.UUID
    filename: str
    upload_order: int | None
    url: str
    fields: dict
    expires_at: datetime


@dataclass
class IssueResult:
    issued: list[IssuedUpload]
    refused: list[Refusal]


def offered() -> bool:
    """Whether clients may send files straight to storage here (S3, unless turned off)."""
    return current_app.config["DIRECT_UPLOADS"] and get_storage().accepts_direct_uploads


def issue(owner: User, provider: str, job: BulkJob | None, files: list[DeclaredFile]) -> IssueResult:
    """A presigned POST for each acceptable file, into `job` when given; the others refused and why.

    The caller checks first that direct uploads are `offered()`.
    """
    if job is not None:
        bulk_jobs.ensure_uploading(job)
        unnumbered = sum(1 for file in files if file.upload_order is None)
        reserved = iter(bulk_jobs.next_upload_orders(job, unnumbered) if unnumbered else [])
    result = IssueResult([], [])
    for file in files:
        order = (
            None if job is None else file.upload_order if file.upload_order is not None else next(reserved)
        )
        try:
            result.issued.append(_issue_one(owner, provider, job, file, order))
        except AppError as error:
            result.refused.append(Refusal(file.filename, order, error))
    if job is not None:
        upload_refusals.record(job.id, result.refused, [])
    return result


def _issue_one(
    owner: User, provider: str, job: BulkJob | None, file: DeclaredFile, order: int | None
) -> IssuedUpload:
    extension = _check_declared(file)
    pending = _pending_at(job, order)
    if pending is not None:
        # A client asking again for a file it was given a POST for (its answer lost, or the POST expired).
        if (pending.filename, pending.size, pending.sha256) != (file.filename, file.size, file.sha256):
            raise DuplicateUploadOrder(f"Upload order {order} is already taken in this job.")
        return _signed(pending)
    if job is not None and _job_holds(job, order):
        raise DuplicateUploadOrder(f"Upload order {order} is already taken in this job.")
    session = PhotoSession(owner_id=owner.id)
    db.session.add(session)
    db.session.flush()
    upload = DirectUpload(
        session_id=session.session_id,
        key=f"{session.prefix}original.{extension}",
        filename=file.filename,
        size=file.size,
        content_type=file.content_type,
        sha256=file.sha256,
        provider=provider,
        job_id=job.id if job else None,
        upload_order=order,
    )
    db.session.add(upload)
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise DuplicateUploadOrder(f"Upload order {order} is already taken in this job.") from exc
    return _signed(upload)


def _check_declared(file: DeclaredFile) -> str:
    """Refuse what the declaration alone rules out; the extension of the key the file goes to."""
    limit = current_app.config["MAX_FILE_BYTES"]
    if file.size == 0:
        raise EmptyFile()
    if file.size > limit:
        raise FileTooLarge(f"The file is {file.size:,} bytes; the limit is {limit:,} bytes.")
    if file.content_type not in CONTENT_TYPES:
        raise UnsupportedImage(
            f"'{file.content_type}' is not a type we take: declare one of {', '.join(CONTENT_TYPES)}."
        )
    return CONTENT_TYPES[file.content_type]


def _pending_at(job: BulkJob | None, order: int | None) -> DirectUpload | None:
    if job is None:
        return None
    return db.session.scalar(
        select(DirectUpload).where(
            DirectUpload.job_id == job.id,
            DirectUpload.upload_order == order,
            DirectUpload.completed_at.is_(None),
        )
    )


def _job_holds(job: BulkJob, order: int) -> bool:
    held = select(BulkJobImage.id).where(BulkJobImage.job_id == job.id, BulkJobImage.upload_order == order)
    return db.session.scalar(held.limit(1)) is not None


def _signed(upload: DirectUpload) -> IssuedUpload:
    expires = current_app.config["DIRECT_UPLOAD_EXPIRES"]
    try:
        post = get_storage().presigned_post(upload.key, upload.content_type, upload.size, expires)
    except StorageUnavailable as exc:
        raise ServiceUnavailable() from exc
    return IssuedUpload(
        upload.session_id,
        upload.filename,
        upload.upload_order,
        post["url"],
        post["fields"],
        utcnow() + timedelta(seconds=expires),
    )


def complete(owner: User, session_id: str) -> AcceptedPhoto:
    """Check the object the client sent and queue its photo; answer the same again if it was done.

    Raises UploadMissing while nothing is stored, and the upload's own refusals (its object is then
    deleted and the upload is over).
    """
    # Locked until this commits: a client completing twice (on two nodes) stores the photo once.
    upload = db.session.get(DirectUpload, parse_id(session_id), with_for_update=True)
    if upload is None or upload.session.owner_id != owner.id:
        db.session.rollback()
        raise NotFound()
    if upload.completed_at is not None:
        accepted = _accepted(upload)
        db.session.rollback()
        return accepted
    try:
        image, key = _checked_object(upload)
        placement = Placement(upload.provider, _job(upload), upload.upload_order)
        virtual_image = record_original(
            upload.session, _original(upload, image, key), upload.filename, placement
        )
    except ObjectMissing as exc:
        db.session.rollback()
        raise UploadMissing() from exc
    except StorageUnavailable as exc:
        db.session.rollback()
        raise ServiceUnavailable() from exc
    except IntegrityError as exc:
        # Its place in the job was taken meanwhile by a file sent through the web.
        error = DuplicateUploadOrder(f"Upload order {upload.upload_order} is already taken in this job.")
        _refuse(upload, error)
        raise error from exc
    except AppError as error:
        _refuse(upload, error)
        raise
    upload.completed_at = utcnow()
    if upload.job_id is not None:
        # Stored at last: a refusal an earlier attempt left at its place ends (commits).
        upload_refusals.record(upload.job_id, [], [upload.upload_order])
    else:
        db.session.commit()
    try:
        enqueue_photo_processing(upload.session_id)
    except RedisError:
        # Committed, so never lost: the reconciler queues a photo that has no live job.
        log.warning("photo stored, its job left to the reconciler", extra={"session_id": session_id})
    return AcceptedPhoto(upload.session_id, virtual_image.id, upload.filename, upload.upload_order)


def _checked_object(upload: DirectUpload) -> tuple[DeclaredImage, str]:
    """The stored object's headers checked by the upload's rules, and the key it is kept under."""
    storage = get_storage()
    start, size = storage.get_start(upload.key, HEADER_READS[0])
    limit = current_app.config["MAX_FILE_BYTES"]
    if size > limit:
        raise FileTooLarge(f"The file is {size:,} bytes; the limit is {limit:,} bytes.")
    if size != upload.size:
        raise SizeMismatch(f"The file is {size:,} bytes; {upload.size:,} were declared.")
    try:
        image = inspect_start(start, size, upload_limits())
    except InvalidImage:
        if len(start) >= size:
            raise
        image = inspect_start(storage.get_start(upload.key, HEADER_READS[1])[0], size, upload_limits())
    key = f"{upload.session.prefix}original.{image.extension}"
    if key != upload.key:
        # Declared as another type (a browser guesses from the name): kept under its real extension.
        storage.move(upload.key, key, image.content_type)
    return image, key


def _original(upload: DirectUpload, image: DeclaredImage, key: str) -> StoredOriginal:
    # Until the worker has read the whole file: the SHA-256 the client declared, and sizes only when
    # the first bytes gave them (0 otherwise).
    return StoredOriginal(
        key, image.content_type, upload.size, image.width or 0, image.height or 0, upload.sha256
    )


def _job(upload: DirectUpload) -> BulkJob | None:
    return db.session.get(BulkJob, upload.job_id) if upload.job_id else None


def _accepted(upload: DirectUpload) -> AcceptedPhoto:
    session = upload.session
    return AcceptedPhoto(session.session_id, session.virtual_image.id, upload.filename, upload.upload_order)


def _refuse(upload: DirectUpload, error: AppError) -> None:
    """End a refused upload: its object, its rows; the refusal stays on its job's page."""
    db.session.rollback()
    job_id, order, filename = upload.job_id, upload.upload_order, upload.filename
    discard([upload.session_id])
    if job_id is not None:
        upload_refusals.record(job_id, [Refusal(filename, order, error)], [])


def discard(session_ids: list[uuid.UUID]) -> None:
    """Remove uploads never completed: their objects, then their sessions; commits."""
    storage = get_storage()
    for session_id in session_ids:
        storage.delete_prefix(f"{session_id}/")
    db.session.execute(delete(PhotoSession).where(PhotoSession.session_id.in_(session_ids)))
    db.session.commit()


def discard_unfinished(job_id: uuid.UUID) -> None:
    """A submitted job takes no more files: its uploads not completed are removed."""
    discard(list(db.session.scalars(_unfinished().where(DirectUpload.job_id == job_id))))


def expire() -> list[uuid.UUID]:
    """Remove the uploads not completed within DIRECT_UPLOAD_ABANDON_AFTER; returns their sessions."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["DIRECT_UPLOAD_ABANDON_AFTER"])
    # One completing now holds its row: it is left to finish.
    query = (
        _unfinished().where(DirectUpload.created_at < cutoff).limit(1000).with_for_update(skip_locked=True)
    )
    expired = list(db.session.scalars(query))
    if expired:
        discard(expired)
    else:
        db.session.rollback()
    return expired


def _unfinished():
    return select(DirectUpload.session_id).where(DirectUpload.completed_at.is_(None))
