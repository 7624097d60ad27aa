"""Notifications out: a signed `job.completed` event POSTed to the job's callback URL once it ends.

An event is signed with its job owner's own secret, so a receiver that holds one user's secret
accepts that user's events only; events to the operator's receiver (JOB_CALLBACK_URL) are signed
with the server's NOTIFICATION_SECRET instead, which only admins see.

Delivery is at least once (the event keeps one webhook-id across retries so receivers can drop
repeats), retried with backoff, and every attempt is logged for the job page.
"""

import json
import uuid
from datetime import timedelta
from typing import NamedTuple

from flask import current_app
from sqlalchemy import select, update

from webapp import outbound, signing
from webapp.errors import AppError
from webapp.extensions import db
from webapp.models import BulkJob, BulkJobImage, User, VirtualImage, WebhookDelivery
from webapp.models.bulk_jobs import TERMINAL_JOB_STATUSES
from webapp.models.types import utcnow
from webapp.services.jobs import signing_secrets

EVENT_TYPE = "job.completed"
# Up to this many images, the event carries every verdict; past it, a link to the paged status.
INLINE_IMAGES = 1000


class InvalidCallbackUrl(AppError):
    code = "invalid_callback_url"
    status = 422


class NotificationRefused(Exception):
    """The receiver answered that it will never take this event (410 Gone); do not retry."""


class OperatorReceiver(NamedTuple):
    """The server-wide callback URL (JOB_CALLBACK_URL) and the setting whose secrets sign its events."""

    url: str
    secret: str


def callback_url_for(owner: User, requested: str | None) -> str | None:
    """The job's callback URL: the one asked for, else the owner's default, else the server's."""
    url = (requested or owner.default_callback_url or current_app.config["JOB_CALLBACK_URL"] or "").strip()
    if not url:
        return None
    check_callback_url(url)
    return url


def check_callback_url(url: str) -> None:
    try:
        outbound.check_destination(url, current_app.config["ALLOW_PRIVATE_CALLBACKS"])
    except outbound.ForbiddenDestination as exc:
        raise InvalidCallbackUrl(f"Callback URL refused: {exc}") from exc


def claim(job_id: uuid.UUID) -> bool:
    """In the caller's transaction: claim the notification of a job that has ended and has a callback
    URL. Of every claim, only one is True; its caller queues the notification once it has committed
    (`job_progress.after_commit`)."""
    return bool(
        db.session.execute(
            update(BulkJob)
            .where(
                BulkJob.id == job_id,
                BulkJob.status.in_(TERMINAL_JOB_STATUSES),
                BulkJob.callback_url.is_not(None),
                BulkJob.notification_claimed_at.is_(None),
            )
            .values(notification_claimed_at=utcnow())
        ).rowcount
    )


def deliver(job_id: uuid.UUID, attempt: int, retries_left: int) -> None:
    """One delivery attempt, logged; raises when it should be tried again."""
    job = db.session.get(BulkJob, job_id)
    if job is None or not job.callback_url or _taken(job):
        return
    body = json.dumps(event_payload(job), separators=(",", ":"))
    headers = signing.signed_headers(secrets_for(job), body, f"msg_job_{job.id.hex}")
    log = WebhookDelivery(
        job_id=job.id,
        event_id=headers["webhook-id"],
        event_type=EVENT_TYPE,
        url=job.callback_url,
        attempt=attempt,
    )
    db.session.add(log)
    try:
        answer = outbound.post_json(
            job.callback_url, body, headers, current_app.config["ALLOW_PRIVATE_CALLBACKS"]
        )
    except (outbound.DeliveryFailed, outbound.ForbiddenDestination) as exc:
        _log_failure(log, None, str(exc), retries_left)
        raise
    log.status_code = answer.status
    if 200 <= answer.status < 300:
        log.delivered = True
        db.session.commit()
        return
    if answer.status == 410:
        _log_failure(log, 410, "The receiver answered 410 Gone: not retried.", 0)
        raise NotificationRefused()
    _log_failure(log, answer.status, f"The receiver answered {answer.status}.", retries_left)
    raise outbound.DeliveryFailed(f"HTTP {answer.status}")


def _taken(job: BulkJob) -> bool:
    """Whether the receiver took the event of the job's current ending: a delivery job run again
    (RQ retries one whose end it could not record, as after a worker lost with another node, and the
    reconciler may queue one) sends nothing more. A job reopened and ended again is claimed anew."""
    if job.notification_claimed_at is None:
        return False  # sent by hand (or by a test), never claimed: nothing of it can have been taken
    taken = select(WebhookDelivery.id).where(
        WebhookDelivery.job_id == job.id,
        WebhookDelivery.delivered.is_(True),
        WebhookDelivery.created_at >= job.notification_claimed_at,
    )
    return db.session.scalar(taken.limit(1)) is not None


def _log_failure(log: WebhookDelivery, status: int | None, error: str, retries_left: int) -> None:
    log.status_code, log.error = status, error
    intervals = current_app.config["NOTIFICATION_RETRY_INTERVALS"]
    if retries_left > 0:
        log.next_retry_at = utcnow() + timedelta(seconds=intervals[len(intervals) - retries_left])
    db.session.commit()


def event_payload(job: BulkJob) -> dict:
    """The event: the job's outcome and counts, with every verdict or a link to them."""
    base = current_app.config["PUBLIC_BASE_URL"]
    data = {
        "job_id": str(job.id),
        "status": job.status.value,
        "provider": job.provider,
        **{
            name: getattr(job, name)
            for name in ("total", "approved", "flagged", "rejected", "failed", "refused")
        },
        "completed_at": job.completed_at.isoformat() if job.completed_at else None,
        "status_url": f"{base}/api/bulk-nsfw/{job.id}/status",
    }
    if job.total <= INLINE_IMAGES:
        data["images"] = _verdicts(job.id)
    return {"type": EVENT_TYPE, "timestamp": utcnow().isoformat(), "data": data}


def _verdicts(job_id: uuid.UUID) -> list[dict]:
    rows = db.session.execute(
        select(BulkJobImage.upload_order, VirtualImage)
        .join(VirtualImage, VirtualImage.id == BulkJobImage.virtual_image_id)
        .where(BulkJobImage.job_id == job_id)
        .order_by(BulkJobImage.upload_order)
    ).all()
    return [
        {
            "virtual_image_id": str(image.id),
            "upload_order": order,
            "filename": image.original_filename,
            "moderation_status": image.moderation_status.value,
            "is_nsfw": image.is_nsfw,
        }
        for order, image in rows
    ]


def deliveries_of(job_id: uuid.UUID) -> list[WebhookDelivery]:
    query = select(WebhookDelivery).where(WebhookDelivery.job_id == job_id)
    return list(db.session.scalars(query.order_by(WebhookDelivery.created_at)))


def secrets_for(job: BulkJob) -> list[str]:
    """What signs the job's event: the server's secrets if it goes to the operator's receiver, else
    its owner's (two during a rotation's grace period)."""
    receiver = operator_receiver()
    if receiver is not None and job.callback_url == receiver.url:
        return signing.secrets_from(receiver.secret)
    return signing_secrets.active(db.session.get(User, job.owner_id))


def operator_receiver() -> OperatorReceiver | None:
    """The operator's receiver, if JOB_CALLBACK_URL is set."""
    url = current_app.config["JOB_CALLBACK_URL"].strip()
    return OperatorReceiver(url, current_app.config["NOTIFICATION_SECRET"]) if url else None
