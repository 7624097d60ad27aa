"""Accepting a photo: validate, create the session, store the original under its prefix, enqueue.

The order is the rule from the incident that split a photo over two folders: the session row is
committed before any byte is stored, and its `session_id` is the prefix of every object.
"""

import logging
import os
import unicodedata
import uuid
from dataclasses import dataclass
from typing import BinaryIO

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.errors import AppError, FileTooLarge, ServiceUnavailable
from webapp.extensions import db
from webapp.imaging import ImageInfo, UploadLimits, decode_budget, inspect_upload
from webapp.models import BulkJob, BulkJobImage, ImageKind, PhotoSession, S3Image, User, VirtualImage
from webapp.queue import enqueue_photo_processing
from webapp.services.jobs import bulk_jobs, upload_refusals
from webapp.services.jobs.upload_refusals import Refusal
from webapp.storage import StorageUnavailable, get_storage

log = logging.getLogger(__name__)

MAX_FILENAME_LENGTH = 255


@dataclass(frozen=True)
class AcceptedPhoto:
    session_id: uuid.UUID
    virtual_image_id: uuid.UUID
    filename: str
    upload_order: int | None = None


class DuplicateUploadOrder(AppError):
    code = "duplicate_upload_order"
    status = 409


@dataclass(frozen=True)
class Placement:
    """Where an upload goes: its moderation provider, and its job and place in it for a batch file."""

    provider: str
    job: BulkJob | None = None
    upload_order: int | None = None


def accept_photo(owner: User, stream: BinaryIO, filename: str | None, placement: Placement) -> AcceptedPhoto:
    """Validate one uploaded file by its content and make it durable, or raise and keep nothing.

    Every photo, a batch's too, is queued for processing at once: a batch is processed while it
    is still uploading.
    """
    info = _inspect(stream)
    session = PhotoSession(owner_id=owner.id)
    db.session.add(session)
    db.session.commit()
    try:
        virtual_image = _store_original(session, stream, info, display_filename(filename), placement)
        enqueue_photo_processing(session.session_id)
    except IntegrityError as exc:
        _discard(session)
        # A retried request whose first attempt was stored (its answer lost on the way) is that file.
        stored = _stored_at(placement, info.sha256)
        if stored is not None:
            return stored
        raise DuplicateUploadOrder(
            f"Upload order {placement.upload_order} is already taken in this job."
        ) from exc
    except (StorageUnavailable, RedisError) as exc:
        log.warning("upload refused, backing service down", extra={"session_id": str(session.session_id)})
        _discard(session)
        raise ServiceUnavailable() from exc
    except BaseException:
        _discard(session)
        raise
    return AcceptedPhoto(
        session.session_id, virtual_image.id, virtual_image.original_filename, placement.upload_order
    )


def _inspect(stream: BinaryIO) -> ImageInfo:
    limit = current_app.config["MAX_FILE_BYTES"]
    size = stream.seek(0, os.SEEK_END)
    stream.seek(0)
    if size > limit:
        raise FileTooLarge(f"The file is {size:,} bytes; the limit is {limit:,} bytes.")
    return inspect_upload(stream, upload_limits())


def upload_limits() -> UploadLimits:
    """What an upload may declare, and the memory this process lets validation use, from the config."""
    config = current_app.config
    return UploadLimits(
        max_pixels=config["MAX_IMAGE_PIXELS"],
        max_frames=config["MAX_IMAGE_FRAMES"],
        max_animation_pixels=config["MAX_ANIMATION_PIXELS"],
        decode_budget=decode_budget(config["VALIDATION_MEMORY_BYTES"]),
    )


def _store_original(
    session: PhotoSession, stream: BinaryIO, info: ImageInfo, filename: str, placement: Placement
) -> VirtualImage:
    key = f"{session.prefix}original.{info.extension}"
    get_storage().put(key, stream, info.content_type)
    original = StoredOriginal(key, info.content_type, info.size, info.width, info.height, info.sha256)
    virtual_image = record_original(session, original, filename, placement)
    db.session.commit()
    return virtual_image


@dataclass(frozen=True)
class StoredOriginal:
    """An original in storage, as its row records it."""

    key: str
    content_type: str
    size: int
    width: int
    height: int
    sha256: str


def record_original(
    session: PhotoSession, original: StoredOriginal, filename: str, placement: Placement
) -> VirtualImage:
    """The rows of a stored original: its image, the photo's virtual image, its place in its job (the
    caller commits). JobNotUploading when its job was closed meanwhile."""
    image = S3Image(
        session_id=session.session_id,
        kind=ImageKind.ORIGINAL,
        bucket=get_storage().bucket,
        key=original.key,
        content_type=original.content_type,
        bytes=original.size,
        width=original.width,
        height=original.height,
        sha256=original.sha256,
    )
    virtual_image = VirtualImage(
        session_id=session.session_id,
        original_filename=filename,
        sha256=original.sha256,
        provider=placement.provider,
    )
    db.session.add_all([image, virtual_image])
    db.session.flush()
    session.original_image_id = image.image_id
    if placement.job is not None:
        bulk_jobs.add_to_job(placement.job.id, virtual_image.id, original.key, placement.upload_order)
    return virtual_image


def _stored_at(placement: Placement, sha256: str) -> AcceptedPhoto | None:
    """The photo the job holds at the placement's upload order, if it has these bytes."""
    row = db.session.execute(
        select(VirtualImage.session_id, VirtualImage.id, VirtualImage.original_filename)
        .join(BulkJobImage, BulkJobImage.virtual_image_id == VirtualImage.id)
        .where(
            BulkJobImage.job_id == placement.job.id,
            BulkJobImage.upload_order == placement.upload_order,
            VirtualImage.sha256 == sha256,
        )
    ).first()
    return AcceptedPhoto(*row, placement.upload_order) if row else None


def _discard(session: PhotoSession) -> None:
    """Undo a half-made upload: its objects and its rows. Best effort; the caller re-raises."""
    db.session.rollback()
    try:
        get_storage().delete_prefix(session.prefix)
    except StorageUnavailable:
        log.exception(
            "could not delete objects of a refused upload", extra={"session_id": str(session.session_id)}
        )
    db.session.delete(session)
    db.session.commit()


def display_filename(filename: str | None) -> str:
    """The client's filename, for display only: last path segment, printable, at most 255 characters."""
    name = unicodedata.normalize("NFC", filename or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return name[:MAX_FILENAME_LENGTH] or "upload"


@dataclass(frozen=True)
class BatchFile:
    stream: BinaryIO
    filename: str | None
    upload_order: int | None = None


@dataclass
class BatchResult:
    accepted: list[AcceptedPhoto]
    refused: list[Refusal]


def accept_batch(owner: User, job: BulkJob, files: list[BatchFile]) -> BatchResult:
    """Store each file of a batch into its job; a refused file is reported and never stops the rest."""
    bulk_jobs.ensure_uploading(job)
    unnumbered = sum(1 for file in files if file.upload_order is None)
    reserved = iter(bulk_jobs.next_upload_orders(job, unnumbered) if unnumbered else [])
    result = BatchResult([], [])
    for file in files:
        order = file.upload_order if file.upload_order is not None else next(reserved)
        try:
            result.accepted.append(
                accept_photo(owner, file.stream, file.filename, Placement(job.provider, job, order))
            )
        except AppError as error:
            result.refused.append(Refusal(display_filename(file.filename), order, error))
    upload_refusals.record(job.id, result.refused, [photo.upload_order for photo in result.accepted])
    if (
        result.refused
        and not result.accepted
        and all(isinstance(r.error, ServiceUnavailable) for r in result.refused)
    ):
        raise ServiceUnavailable()
    return result
