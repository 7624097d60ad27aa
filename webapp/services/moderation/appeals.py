"""Appeals: the uploader of a flagged or rejected photo asks, once, for a person to look again.

The appeal joins the review queue. Someone other than the person whose decision it appeals decides
it, and that decision is final; the uploader reads the outcome and the decider's message, never who
decided.
"""

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.errors import AppError, NotFound, parse_id
from webapp.extensions import db
from webapp.models import (
    Appeal,
    AppealOutcome,
    AuditKind,
    ModerationStatus,
    PhotoSession,
    User,
    VirtualImage,
)
from webapp.models.types import utcnow
from webapp.services.moderation import audit

APPEALABLE = (ModerationStatus.FLAGGED, ModerationStatus.REJECTED)
MAX_MESSAGE = 2000


class NotAppealable(AppError):
    code = "not_appealable"
    status = 409
    message = "Only a flagged or rejected photo can be appealed."


class AlreadyAppealed(AppError):
    code = "already_appealed"
    status = 409
    message = "This photo was appealed already: a photo is appealed once, and its outcome is final."


class AppealMessageRequired(AppError):
    code = "invalid_message"
    status = 422
    message = f"Say why the photo should be looked at again: a message of 1 to {MAX_MESSAGE} characters."


# What refuses an appeal of one's own photo: its state, or the message.
REFUSALS = (AlreadyAppealed, NotAppealable, AppealMessageRequired)


class SameReviewer(AppError):
    code = "same_reviewer"
    status = 409
    message = "You made the decision this appeal is about: another moderator decides the appeal."


class AppealDecided(AppError):
    code = "appeal_decided"
    status = 409
    message = "This photo's appeal was decided, and that decision is final."


def appeal(uploader: User, session_id: str | uuid.UUID, message: str | None) -> Appeal:
    """The uploader's appeal of their photo's verdict, in the queue from now. Commits.

    NotFound unless the photo is theirs (whoever else may see it), then AlreadyAppealed, NotAppealable
    and AppealMessageRequired, in that order: what the photo's state says before what the request says.
    """
    image = db.session.scalar(
        select(VirtualImage)
        .join(PhotoSession, PhotoSession.session_id == VirtualImage.session_id)
        .where(PhotoSession.session_id == parse_id(session_id), PhotoSession.owner_id == uploader.id)
        .with_for_update(of=VirtualImage)
    )
    if image is None:
        db.session.rollback()
        raise NotFound()
    message = (message or "").strip()
    refusal = _refusal(image, message)
    if refusal is not None:
        db.session.rollback()
        raise refusal
    filed = Appeal(
        virtual_image_id=image.id,
        appellant_id=uploader.id,
        message=message,
        verdict_appealed=image.moderation_status.value,
        appealed_reviewer_id=image.reviewed_by_id,
    )
    db.session.add(filed)
    audit.record(AuditKind.APPEAL, uploader, image.id, before=image.moderation_status.value, note=message)
    try:
        db.session.commit()
    except IntegrityError:
        # One appeal per image: the unique key decides between two at once, and a second one later.
        db.session.rollback()
        raise AlreadyAppealed() from None
    return filed


def _refusal(image: VirtualImage, message: str) -> AppError | None:
    """Why the image cannot be appealed with this message, if it cannot."""
    if db.session.scalar(select(Appeal.id).where(Appeal.virtual_image_id == image.id)) is not None:
        return AlreadyAppealed()
    if image.moderation_status not in APPEALABLE:
        return NotAppealable()
    if not message or len(message) > MAX_MESSAGE:
        return AppealMessageRequired()
    return None


def pending_for(images: list[VirtualImage]) -> dict[uuid.UUID, Appeal]:
    """The undecided appeals of these images, by image."""
    if not images:
        return {}
    rows = db.session.scalars(
        select(Appeal).where(
            Appeal.virtual_image_id.in_([image.id for image in images]), Appeal.decided_at.is_(None)
        )
    )
    return {row.virtual_image_id: row for row in rows}


def check_not_final(images: list[VirtualImage]) -> None:
    """AppealDecided if any of these images had its appeal decided: nobody decides it again."""
    decided = select(Appeal.id).where(
        Appeal.virtual_image_id.in_([image.id for image in images]), Appeal.decided_at.is_not(None)
    )
    if images and db.session.scalar(decided.limit(1)) is not None:
        db.session.rollback()
        raise AppealDecided()


def check_reviewer(reviewer: User, pending: dict[uuid.UUID, Appeal]) -> None:
    """SameReviewer if `reviewer` made any decision these appeals are about."""
    if any(appealed.appealed_reviewer_id == reviewer.id for appealed in pending.values()):
        db.session.rollback()
        raise SameReviewer()


def close(appealed: Appeal, reviewer: User, after: ModerationStatus, reply: str | None) -> None:
    """Decide the appeal (in the caller's transaction): overturned if the photo is now approved."""
    appealed.decided_at = utcnow()
    appealed.decided_by_id = reviewer.id
    appealed.outcome = (
        AppealOutcome.OVERTURNED if after == ModerationStatus.APPROVED else AppealOutcome.UPHELD
    )
    appealed.reply = reply
