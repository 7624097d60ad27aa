"""The moderation audit log: each event is written in the transaction of what it records."""

import uuid

from webapp.extensions import db
from webapp.models import AuditEvent, AuditKind, User


def record(
    kind: AuditKind,
    actor: User | str,
    virtual_image_id: uuid.UUID | None,
    before: str | None = None,
    after: str | None = None,
    note: str | None = None,
) -> AuditEvent:
    """Add an event to the session (the caller commits): `actor` is a person, or the name of the
    provider or mechanism that acted (a machine's decision)."""
    person = actor if isinstance(actor, User) else None
    event = AuditEvent(
        kind=kind,
        actor_id=person.id if person else None,
        actor=person.email if person else actor,
        virtual_image_id=virtual_image_id,
        before=before,
        after=after,
        note=note,
    )
    db.session.add(event)
    return event
