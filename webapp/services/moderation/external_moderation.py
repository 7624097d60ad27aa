"""The external provider: hand an image to a moderation service, then take its verdict by webhook.

The image waits as `pending` with a deadline; the verdict arrives on POST /api/webhooks/moderation,
signed, and is applied by virtual_image_id through the same policy as every provider. An image
the service never answers ends `error` at its deadline, never approved. The service decides only
an image handed to it and still pending; a callback for any other is refused (409) and changes nothing.
"""

import math
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from webapp import signing
from webapp.errors import AppError, NotFound
from webapp.extensions import db
from webapp.models import ImageKind, ModerationStatus, VirtualImage, WebhookEvent
from webapp.models.types import utcnow
from webapp.providers import ModerationResult, registry
from webapp.providers.cascade import cascade_of, with_cascade
from webapp.providers.external import request_moderation
from webapp.queue import enqueue_external_request, schedule_deadline_check
from webapp.services import verdicts
from webapp.services.moderation.vendor_callbacks import (
    Callback,
    InvalidEvent,
    MalformedBody,
    parse_callback,
    storable_text,
)
from webapp.storage import get_storage

WEBHOOK_PATH = "/api/webhooks/moderation"
WEBHOOK_ID_CHARS = WebhookEvent.webhook_id.type.length


class InvalidSignature(AppError):
    code = "invalid_signature"
    status = 401
    message = "Missing, malformed, stale or wrong webhook signature."


class NotAwaitingVendor(AppError):
    code = "not_awaiting_vendor"
    status = 409
    message = "This image does not await the moderation service's verdict."


def hand_over(virtual_image: VirtualImage) -> None:
    """Mark the image as awaiting the service, and queue the request and its deadline."""
    deadline = current_app.config["EXTERNAL_MODERATION_DEADLINE"]
    now = utcnow()
    virtual_image.external_requested_at = now
    virtual_image.external_deadline_at = now + timedelta(seconds=deadline)
    db.session.commit()
    enqueue_external_request(virtual_image.id, deadline)


def send_request(virtual_image_id: uuid.UUID) -> None:
    """Send one image to the service (a job, retried with backoff while the service is down)."""
    image = db.session.get(VirtualImage, virtual_image_id)
    if image is None or image.moderation_status != ModerationStatus.PENDING or image.reviewed_at:
        return
    config = current_app.config
    original = image.session.image(ImageKind.ORIGINAL)
    expires = min(config["EXTERNAL_MODERATION_DEADLINE"], 3600)
    payload = {
        "type": "moderation.requested",
        "virtual_image_id": str(image.id),
        "image_url": get_storage().url(original.key, expires, config["PUBLIC_BASE_URL"]),
        "image_url_expires_at": (utcnow() + timedelta(seconds=expires)).isoformat(),
        "content_type": original.content_type,
        "callback_url": config["PUBLIC_BASE_URL"] + WEBHOOK_PATH,
        "answer_by": image.external_deadline_at.isoformat() if image.external_deadline_at else None,
    }
    request_moderation(
        config["EXTERNAL_MODERATION_URL"], request_secret(), payload, f"msg_req_{image.id.hex}"
    )


def request_secret() -> str | None:
    """What signs our requests: EXTERNAL_MODERATION_SECRET, else the first active callback secret."""
    config = current_app.config
    secrets = signing.secrets_from(
        config["EXTERNAL_MODERATION_SECRET"] or config["MODERATION_WEBHOOK_SECRET"]
    )
    return secrets[0] if secrets else None


def deadline_passed(virtual_image_id: uuid.UUID) -> None:
    """At the deadline, an image the service has not answered ends `error` (fail closed)."""
    image = db.session.get(VirtualImage, virtual_image_id)
    if (
        image is None
        or image.moderation_status != ModerationStatus.PENDING
        or image.external_deadline_at is None
    ):
        return
    remaining = (_aware(image.external_deadline_at) - utcnow()).total_seconds()
    if remaining > 0:
        # RQ's scheduler keeps whole seconds, so this check can come a moment early: look again.
        schedule_deadline_check(image.id, math.ceil(remaining))
        return
    reason = f"The moderation service did not answer within {_duration(image)}."
    verdicts.record_error(image.id, reason, registry.ExternalService.name)


def _duration(image: VirtualImage) -> str:
    seconds = round(
        (_aware(image.external_deadline_at) - _aware(image.external_requested_at)).total_seconds()
    )
    return f"{seconds // 60} minutes" if seconds >= 120 else f"{seconds} seconds"


def receive(body: bytes, headers: dict[str, str]) -> dict:
    """Verify, record once by webhook-id, and apply a moderation callback (its answers: /docs/api)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedBody() from None
    try:
        verified = signing.verify(
            signing.secrets_from(current_app.config["MODERATION_WEBHOOK_SECRET"]), text, headers
        )
    except signing.BadSignature:
        raise InvalidSignature() from None
    if len(verified.webhook_id) > WEBHOOK_ID_CHARS or not storable_text(verified.webhook_id):
        # Not cut to fit: two ids sharing a prefix would pass for replays of each other.
        raise InvalidEvent(f"webhook-id must be text of at most {WEBHOOK_ID_CHARS} characters.")
    return _apply(verified, parse_callback(text))


def _apply(verified: signing.Verified, callback: Callback) -> dict:
    image = db.session.scalar(
        select(VirtualImage).where(VirtualImage.id == callback.image_id).with_for_update()
    )
    if image is None:
        db.session.rollback()
        raise NotFound("No image has this virtual_image_id.")
    # The webhook-id is claimed before the image is judged: a replay of an applied callback finds its
    # image decided, and is still the duplicate it is, not a conflict.
    if not _record(verified, image.id, callback.event, "applied"):
        db.session.rollback()
        return {"status": "duplicate", "webhook_id": verified.webhook_id}
    refusal = _refusal(image)
    if refusal:
        # The claim is undone too: a refused callback changes nothing, and its replay is judged anew.
        db.session.rollback()
        raise NotAwaitingVendor(refusal)
    _set_verdict(image, verified, callback)
    return {
        "status": "applied",
        "webhook_id": verified.webhook_id,
        "moderation_status": image.moderation_status.value,
    }


def _refusal(image: VirtualImage) -> str | None:
    """Why the service may not decide this image, or None while the image awaits its verdict.

    The service decides only what was handed to it (the image's provider is `external`, a batch file
    carrying its job's provider, or it was escalated to the service as a second opinion) and is still
    `pending`: not an image another provider moderates, nor one decided already, by the service, a
    person or its deadline.
    """
    escalated_to = (cascade_of(image.rekognition_data) or {}).get("escalated_to")
    if image.provider not in registry.names_of(registry.Kind.LATER) and escalated_to != "external":
        return f"This image is moderated by {image.provider}, not by the moderation service."
    if image.external_requested_at is None:
        return "This image has not been sent to the moderation service yet."
    if image.moderation_status != ModerationStatus.PENDING or image.reviewed_at is not None:
        return f"This image is already decided ({image.moderation_status.value}); it awaits no verdict."
    return None


def _record(verified: signing.Verified, image_id: uuid.UUID, event: dict, result: str) -> bool:
    """Insert the event unless its webhook-id is known: the unique index decides, not a read."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(WebhookEvent)
        .values(
            id=uuid.uuid4(),
            webhook_id=verified.webhook_id,
            sent_at=verified.sent_at,
            received_at=utcnow(),
            virtual_image_id=image_id,
            payload=event,
            result=result,
        )
        .on_conflict_do_nothing(index_elements=["webhook_id"])
        .returning(WebhookEvent.id)
    )
    return db.session.execute(statement).scalar() is not None


def _set_verdict(image: VirtualImage, verified: signing.Verified, callback: Callback) -> None:
    """Write the stricter of the service's verdict and our policy's over its labels."""
    extra = callback.extra
    model_version = extra.get("model_version") or extra.get("provider") or "external"
    result = ModerationResult(
        callback.labels, model_version, "external", {"ExternalVerdict": callback.verdict.value, **extra}
    )
    first = cascade_of(image.rekognition_data)
    if first is not None:
        result = with_cascade(result, first)
    outcome = verdicts.judged(result, registry.policy(), floor=callback.verdict)
    verdicts.record({image.id: replace(outcome, event_at=verified.sent_at)})


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes that are UTC already."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
