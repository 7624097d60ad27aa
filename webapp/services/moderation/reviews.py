"""A person's decisions: one image or a selection, each recorded with who, when, before and after.

A decision respects the team's claims (not on an image another moderator holds, not on one passed to
the admins unless by an admin) and appeals (not by the person whose decision is appealed, and none
after an appeal was decided: that decision is final).
"""

import uuid

from sqlalchemy import select, update

from webapp.errors import AppError, NotFound
from webapp.extensions import db
from webapp.models import AuditKind, ModerationReview, ModerationStatus, User, VirtualImage
from webapp.services import verdicts
from webapp.services.banks import review_banking
from webapp.services.moderation import appeals, audit, claims

DECISIONS = {"approved": ModerationStatus.APPROVED, "rejected": ModerationStatus.REJECTED}


class InvalidVerdict(AppError):
    code = "invalid_verdict"
    status = 422
    message = "The verdict must be 'approved' or 'rejected'."


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
    claims.check_may_decide(reviewer, images)
    appeals.check_not_final(images)
    appealed = appeals.pending_for(images)
    appeals.check_reviewer(reviewer, appealed)
    note, message = _text(note), _text(message)
    # The records first: they keep each image's verdict before the decision.
    reviews = [_review(reviewer, image, after, note, message) for image in images]
    db.session.add_all(reviews)
    for image in images:
        kind = AuditKind.APPEAL_DECISION if image.id in appealed else AuditKind.DECISION
        audit.record(kind, reviewer, image.id, image.moderation_status.value, after.value, note)
        if image.id in appealed:
            appeals.close(appealed[image.id], reviewer, after, message)
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
    if db.engine.dialect.name == "sqlite":
        # SQLite ignores FOR UPDATE and reads outside a transaction: a write first takes its one write
        # lock, so two decisions at once see each other's claims and verdicts, as on PostgreSQL.
        unchanged = {"updated_at": VirtualImage.updated_at}
        db.session.execute(update(VirtualImage).where(VirtualImage.id.in_(image_ids)).values(unchanged))
    query = (
        select(VirtualImage).where(VirtualImage.id.in_(image_ids)).order_by(VirtualImage.id).with_for_update()
    )
    images = list(db.session.scalars(query))
    if not image_ids or len(images) != len(image_ids):
        db.session.rollback()
        raise NotFound()
    return images
