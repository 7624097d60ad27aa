"""Human review: the queue of what machines could not decide, and decisions with an audit trail."""

import uuid
from dataclasses import dataclass

from sqlalchemy import case, func, select

from webapp.errors import AppError, NotFound
from webapp.extensions import db
from webapp.models import ModerationReview, ModerationStatus, PhotoSession, User, VirtualImage
from webapp.services import verdicts
from webapp.services.banks import review_banking

REVIEWABLE = (ModerationStatus.FLAGGED, ModerationStatus.ERROR)
DECISIONS = {"approved": ModerationStatus.APPROVED, "rejected": ModerationStatus.REJECTED}


class InvalidVerdict(AppError):
    code = "invalid_verdict"
    status = 422
    message = "The verdict must be 'approved' or 'rejected'."


@dataclass(frozen=True)
class QueueItem:
    virtual_image: VirtualImage
    session: PhotoSession


def review_queue(limit: int = 25) -> tuple[list[QueueItem], int]:
    """Images waiting for a person, flagged first, oldest first; and how many wait in all."""
    waiting = VirtualImage.moderation_status.in_(REVIEWABLE)
    flagged_first = case((VirtualImage.moderation_status == ModerationStatus.FLAGGED, 0), else_=1)
    rows = db.session.execute(
        select(VirtualImage, PhotoSession)
        .join(PhotoSession, PhotoSession.session_id == VirtualImage.session_id)
        .where(waiting)
        .order_by(flagged_first, VirtualImage.created_at)
        .limit(limit)
    ).all()
    total = db.session.scalar(select(func.count()).select_from(VirtualImage).where(waiting))
    return [QueueItem(*row) for row in rows], total


def decide(
    reviewer: User,
    virtual_image_id: str | uuid.UUID,
    verdict: str,
    note: str | None,
    message: str | None = None,
) -> ModerationReview:
    """Record a person's verdict over whatever a machine said, with who, when, before, after, their
    internal note and their message to the uploader."""
    return decide_many(reviewer, [virtual_image_id], verdict, note, message)[0]


def decide_many(
    reviewer: User,
    ids: list[str | uuid.UUID],
    verdict: str,
    note: str | None,
    message: str | None = None,
) -> list[ModerationReview]:
    """The same decision for a selection, each recorded on its own, all or none (one transaction)."""
    after = DECISIONS.get(verdict)
    if after is None:
        raise InvalidVerdict()
    images = _locked(ids)
    # The audit rows first: they keep each image's verdict before the decision.
    reviews = [_review(reviewer, image, after, _text(note), _text(message)) for image in images]
    db.session.add_all(reviews)
    verdicts.overrule(images, verdicts.Outcome(after, reviewer=reviewer))
    # What a person rejects is recognised when it comes back; what they approve is not held against it.
    if after == ModerationStatus.REJECTED:
        review_banking.add_rejected(images, reviewer)
    else:
        review_banking.remove_approved(images)
    return reviews


def _text(written: str | None) -> str | None:
    """A note or message as kept: trimmed, at most 2,000 characters, None when blank."""
    return (written or "").strip()[:2000] or None


def _review(
    reviewer: User, image: VirtualImage, after: ModerationStatus, note: str | None, message: str | None
) -> ModerationReview:
    return ModerationReview(
        virtual_image_id=image.id,
        reviewer_id=reviewer.id,
        reviewer_email=reviewer.email,
        verdict_before=image.moderation_status.value,
        verdict_after=after.value,
        note=note,
        message=message,
    )


def _locked(ids: list[str | uuid.UUID]) -> list[VirtualImage]:
    """The images, locked until commit so two reviewers (or a callback) cannot interleave; NotFound
    if any is unknown, before anything changes."""
    try:
        image_ids = list(dict.fromkeys(uuid.UUID(str(image_id)) for image_id in ids))
    except ValueError:
        raise NotFound() from None
    query = (
        select(VirtualImage).where(VirtualImage.id.in_(image_ids)).order_by(VirtualImage.id).with_for_update()
    )
    images = list(db.session.scalars(query))
    if not image_ids or len(images) != len(image_ids):
        db.session.rollback()
        raise NotFound()
    return images
