"""What the review team did, as the audit log tells it: decisions per person today, who escalated what."""

import uuid
from typing import NamedTuple

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import AuditEvent, AuditKind, User
from webapp.models.types import utcnow

DECIDING = (AuditKind.DECISION, AuditKind.APPEAL_DECISION)


class DecisionCount(NamedTuple):
    email: str
    decisions: int


def decisions_today() -> list[DecisionCount]:
    """How many decisions (on appeals too) each person made since midnight UTC, most first."""
    midnight = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    decisions = func.count().label("decisions")
    rows = db.session.execute(
        select(User.email, decisions)
        .select_from(AuditEvent)
        .join(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.kind.in_(DECIDING), AuditEvent.at >= midnight)
        .group_by(User.id, User.email)
        .order_by(decisions.desc(), User.email)
    )
    return [DecisionCount(*row) for row in rows]


def escalated_by(image_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Who passed each of these images to the admins, as the log names them (the latest time, if more)."""
    if not image_ids:
        return {}
    rows = db.session.execute(
        select(AuditEvent.virtual_image_id, AuditEvent.actor)
        .where(AuditEvent.kind == AuditKind.ESCALATION, AuditEvent.virtual_image_id.in_(image_ids))
        .order_by(AuditEvent.at)
    )
    return {image_id: actor for image_id, actor in rows}
