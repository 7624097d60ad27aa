"""Review work shared by a team: each image waiting for a person is leased to one moderator at a time.

A moderator asks for work and is given their own claims, topped up from the oldest unclaimed images
in one guarded statement (`FOR UPDATE SKIP LOCKED` on PostgreSQL; on SQLite a write statement holds
the database's only write lock), so two moderators asking at once never get the same image. A
claim lasts REVIEW_CLAIM_SECONDS and is renewed by the moderator's activity; once it lapses, the
image is anyone's again. An image a moderator passes to the admins waits in a queue of its own.
"""

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, Connection, and_, case, exists, func, or_, select, update
from sqlalchemy.orm import selectinload

from webapp.errors import AppError, Forbidden, NotFound, parse_id
from webapp.extensions import db
from webapp.models import Appeal, AuditEvent, AuditKind, ModerationStatus, PhotoSession, User, VirtualImage
from webapp.models.types import utcnow
from webapp.services.moderation import appeals, audit

# What a machine could not decide; an appealed verdict waits for a person too, whatever it is.
UNDECIDED = (ModerationStatus.FLAGGED, ModerationStatus.ERROR)
MAX_CLAIMS = 100


class Queue(enum.StrEnum):
    MODERATORS = "moderators"
    ESCALATED = "escalated"  # passed to the admins


class ClaimedByAnother(AppError):
    code = "claimed_by_another"
    status = 409
    message = "Another moderator holds this image; it returns to the queue if they let it go."


class NotWaiting(AppError):
    code = "not_waiting"
    status = 409
    message = "This image waits for nobody: it has been decided."


class EscalatedToAdmins(AppError):
    code = "escalated"
    status = 403
    message = "This image was passed to the admins: only an admin decides it now."


@dataclass(frozen=True)
class QueueItem:
    virtual_image: VirtualImage
    session: PhotoSession

    @property
    def appeal(self) -> Appeal | None:
        appeal = self.virtual_image.appeal
        return appeal if appeal is not None and appeal.is_pending else None


@dataclass(frozen=True)
class QueueWork:
    """A moderator's claims, and how many images nobody holds and since when the oldest waits."""

    items: list[QueueItem]
    waiting: int
    oldest_waiting_seconds: float | None


def claim_seconds() -> int:
    return current_app.config["REVIEW_CLAIM_SECONDS"]


def _pending_appeal() -> ColumnElement[bool]:
    return exists().where(Appeal.virtual_image_id == VirtualImage.id, Appeal.decided_at.is_(None))


def needs_person() -> ColumnElement[bool]:
    """Images a person must decide: undecided by the machines, or appealed."""
    return or_(VirtualImage.moderation_status.in_(UNDECIDED), _pending_appeal())


def in_queue(queue: Queue) -> ColumnElement[bool]:
    escalated = VirtualImage.escalated_at.is_not(None)
    return and_(needs_person(), escalated if queue == Queue.ESCALATED else ~escalated)


def unclaimed(now: datetime) -> ColumnElement[bool]:
    return or_(VirtualImage.claimed_until.is_(None), VirtualImage.claimed_until < now)


def _not_appealing_decision_of(moderator: User) -> ColumnElement[bool]:
    """Not an appeal of the moderator's own decision: someone else decides those."""
    return ~exists().where(
        Appeal.virtual_image_id == VirtualImage.id,
        Appeal.decided_at.is_(None),
        Appeal.appealed_reviewer_id == moderator.id,
    )


def _not_just_released_by(moderator: User, now: datetime) -> ColumnElement[bool]:
    """Not an image the moderator let go of within a claim's time: they released it for someone
    else, so asking for work again does not hand it straight back (it comes back to them later)."""
    released = select(AuditEvent.virtual_image_id).where(
        AuditEvent.actor_id == moderator.id,
        AuditEvent.kind == AuditKind.RELEASE,
        AuditEvent.at > now - timedelta(seconds=claim_seconds()),
    )
    return VirtualImage.id.not_in(released)


def waiting_since() -> ColumnElement:
    """When an image joined the queue: its appeal's time if appealed, else its upload's."""
    appealed_at = (
        select(Appeal.created_at)
        .where(Appeal.virtual_image_id == VirtualImage.id, Appeal.decided_at.is_(None))
        .scalar_subquery()
    )
    return func.coalesce(appealed_at, VirtualImage.created_at)


def _queue_order() -> tuple:
    """Flagged images and appeals first, then those no machine could moderate; oldest first."""
    failed_last = case((VirtualImage.moderation_status == ModerationStatus.ERROR, 1), else_=0)
    return failed_last, waiting_since(), VirtualImage.id


def _check_queue(moderator: User, queue: Queue) -> None:
    if queue == Queue.ESCALATED and not moderator.is_admin:
        raise Forbidden("Only admins work the escalated queue.")


def take_work(moderator: User, limit: int, queue: Queue = Queue.MODERATORS) -> QueueWork:
    """The moderator's claims in `queue`, renewed, topped up to `limit` from the oldest unclaimed
    images; with how many nobody holds. Commits."""
    _check_queue(moderator, queue)
    limit = max(0, min(limit, MAX_CLAIMS))
    now = utcnow()
    until = now + timedelta(seconds=claim_seconds())
    mine = and_(in_queue(queue), VirtualImage.claimed_by_id == moderator.id)
    held = db.session.execute(
        _keeping_updated_at(update(VirtualImage).where(mine).values(claimed_until=until))
    ).rowcount
    wanted = limit - held
    if wanted > 0:
        free = (
            select(VirtualImage.id)
            .where(
                in_queue(queue),
                unclaimed(now),
                _not_appealing_decision_of(moderator),
                _not_just_released_by(moderator, now),
            )
            .order_by(*_queue_order())
            .limit(wanted)
            .with_for_update(skip_locked=True, of=VirtualImage)
        )
        claimed = db.session.scalars(
            _keeping_updated_at(
                update(VirtualImage)
                .where(VirtualImage.id.in_(free.scalar_subquery()))
                .values(claimed_by_id=moderator.id, claimed_until=until)
            ).returning(VirtualImage.id)
        ).all()
        for image_id in claimed:
            audit.record(AuditKind.CLAIM, moderator, image_id)
    db.session.commit()
    items = _items(moderator, queue, limit)
    waiting, oldest = queue_size(queue)
    return QueueWork(items, waiting, oldest)


def _items(moderator: User, queue: Queue, limit: int) -> list[QueueItem]:
    rows = db.session.execute(
        select(VirtualImage, PhotoSession)
        .join(PhotoSession, PhotoSession.session_id == VirtualImage.session_id)
        .where(in_queue(queue), VirtualImage.claimed_by_id == moderator.id)
        .order_by(*_queue_order())
        .limit(limit)
        .options(selectinload(VirtualImage.appeal), selectinload(PhotoSession.images))
    ).all()
    return [QueueItem(*row) for row in rows]


def queue_size(queue: Queue, connection: Connection | None = None) -> tuple[int, float | None]:
    """How many images in `queue` nobody holds, and how long the oldest of them has waited; read on
    `connection` when given (the metrics' own), else in the session."""
    now = utcnow()
    count, oldest = (
        (connection or db.session)
        .execute(select(func.count(), func.min(waiting_since())).where(in_queue(queue), unclaimed(now)))
        .one()
    )
    return count, (now - _aware(oldest)).total_seconds() if oldest is not None else None


def queue_length(queue: Queue) -> int:
    """How many images wait in `queue`, held by someone or not."""
    return db.session.scalar(select(func.count()).where(in_queue(queue)))


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every time we store is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def renew(moderator: User) -> int:
    """Extend every claim the moderator holds (they are at work); how many. Commits."""
    until = utcnow() + timedelta(seconds=claim_seconds())
    renewed = db.session.execute(
        _keeping_updated_at(
            update(VirtualImage)
            .where(VirtualImage.claimed_by_id == moderator.id, needs_person())
            .values(claimed_until=until)
        )
    ).rowcount
    db.session.commit()
    return renewed


def claim(moderator: User, virtual_image_id: str | uuid.UUID, take_over: bool = False) -> VirtualImage:
    """Hold one image: one that nobody holds, or — for an admin who says so — one another holds."""
    image = _locked(virtual_image_id)
    if image.escalated_at is not None and not moderator.is_admin:
        db.session.rollback()
        raise EscalatedToAdmins()
    # Holding what one may not decide would only keep it from the others.
    appeals.check_reviewer(moderator, appeals.pending_for([image]))
    holder = holder_other_than(moderator, image)
    if holder is not None and not take_over:
        db.session.rollback()
        raise ClaimedByAnother()
    if holder is not None and not moderator.is_admin:
        db.session.rollback()
        raise Forbidden("Only an admin takes over another moderator's claim.")
    _change(image, claimed_by_id=moderator.id, claimed_until=utcnow() + timedelta(seconds=claim_seconds()))
    kind = AuditKind.TAKEOVER if holder is not None else AuditKind.CLAIM
    audit.record(kind, moderator, image.id, note=f"from {holder.email}" if holder is not None else None)
    db.session.commit()
    db.session.refresh(image)
    return image


def release(moderator: User, virtual_image_id: str | uuid.UUID) -> None:
    """Let an image go back to the queue; releasing what one does not hold changes nothing."""
    image = _locked(virtual_image_id)
    if image.claimed_by_id == moderator.id:
        _change(image, claimed_by_id=None, claimed_until=None)
        audit.record(AuditKind.RELEASE, moderator, image.id)
    db.session.commit()


def escalate(moderator: User, virtual_image_id: str | uuid.UUID, note: str | None) -> VirtualImage:
    """Pass an image to the admins' queue with a note; the moderator's claim ends."""
    note = (note or "").strip() or None
    image = _locked(virtual_image_id)
    if image.escalated_at is None:
        check_may_decide(moderator, [image])
        _change(image, escalated_at=utcnow(), escalation_note=note, claimed_by_id=None, claimed_until=None)
        audit.record(AuditKind.ESCALATION, moderator, image.id, note=note)
    db.session.commit()
    db.session.refresh(image)
    return image


def check_may_decide(moderator: User, images: list[VirtualImage]) -> None:
    """Refuse images another moderator holds (ClaimedByAnother) or that were passed to the admins
    (EscalatedToAdmins, unless an admin decides). The caller holds the images' row locks."""
    for image in images:
        # Escalated first: a moderator may not decide it whoever holds it.
        if image.escalated_at is not None and not moderator.is_admin:
            db.session.rollback()
            raise EscalatedToAdmins()
        if holder_other_than(moderator, image) is not None:
            db.session.rollback()
            raise ClaimedByAnother()


def holder_other_than(moderator: User, image: VirtualImage) -> User | None:
    """Who else holds a live claim on the image, if anyone."""
    live = image.claimed_until is not None and _aware(image.claimed_until) > utcnow()
    if not live or image.claimed_by_id in (None, moderator.id):
        return None
    return db.session.get(User, image.claimed_by_id)


def _locked(virtual_image_id: str | uuid.UUID) -> VirtualImage:
    """The image, locked until commit, if it waits for a person (NotFound, NotWaiting otherwise)."""
    image_id = parse_id(virtual_image_id)
    # A write takes the lock before anything is read: the row's on PostgreSQL, and on SQLite, which
    # ignores FOR UPDATE and reads outside a transaction, the database's one write lock. Two moderators
    # claiming the same image at once then see each other's claim on both.
    db.session.execute(_keeping_updated_at(update(VirtualImage).where(VirtualImage.id == image_id)))
    image = db.session.scalar(
        select(VirtualImage).where(VirtualImage.id == image_id).execution_options(populate_existing=True)
    )
    if image is None:
        db.session.rollback()
        raise NotFound()
    if not db.session.scalar(select(needs_person()).where(VirtualImage.id == image_id)):
        db.session.rollback()
        raise NotWaiting()
    return image


def _change(image: VirtualImage, **values) -> None:
    db.session.execute(
        _keeping_updated_at(update(VirtualImage).where(VirtualImage.id == image.id).values(values))
    )


def _keeping_updated_at(statement):
    """A claim is not a change of the image: its updated_at (when it was last decided) stays."""
    return statement.values(updated_at=VirtualImage.updated_at)
