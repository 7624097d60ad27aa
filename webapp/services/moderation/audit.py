"""The moderation audit log: each event is written in the transaction of what it records."""

import uuid
from typing import TYPE_CHECKING

from webapp.extensions import db
from webapp.models import AuditEvent, AuditKind, User

if TYPE_CHECKING:
    from webapp.services.verdicts import Outcome

# The actor of what no provider and no person did: a photo that could not be processed, retries run out.
SYSTEM = "system"
NOTED_LABELS = 3


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


def record_outcome(outcome: "Outcome", virtual_image_id: uuid.UUID) -> AuditEvent:
    """Add the event of a machine's outcome written over a pending image (the caller commits)."""
    return record(
        outcome_kind(outcome),
        machine_actor(outcome),
        virtual_image_id,
        "pending",
        outcome.status.value,
        machine_note(outcome),
    )


def outcome_kind(outcome: "Outcome") -> AuditKind:
    """A `cancel` when a person ended the image's moderation without judging it (an admin cancelling its
    job); a `decision` otherwise."""
    return AuditKind.CANCEL if isinstance(outcome.actor, User) else AuditKind.DECISION


def machine_actor(outcome: "Outcome") -> User | str:
    """Who the log names for a machine's outcome: whoever the outcome says acted (a provider that failed,
    the person who cancelled a job), else the source of its result ("rekognition", "local", "external",
    "hash_match", "duplicate_of"), else the system."""
    if outcome.actor is not None:
        return outcome.actor
    return outcome.result.source if outcome.result is not None else SYSTEM


def machine_note(outcome: "Outcome") -> str | None:
    """Why, in a line: the error's reason, the bank or earlier image that decided, or the vendor's
    verdict and the strongest labels."""
    if outcome.error or outcome.result is None:
        return outcome.error
    answer = outcome.result.answer
    if "DuplicateOf" in answer:
        return f"same bytes as image {answer['DuplicateOf']}"
    if match := answer.get("HashMatch"):
        return f"bank {match['bank']} ({match['action']}, distance {match['distance']})"
    strongest = sorted(outcome.result.labels, key=lambda label: -label["Confidence"])[:NOTED_LABELS]
    parts = [", ".join(f"{label['Name']} {label['Confidence']:.0f}%" for label in strongest)]
    if "ExternalVerdict" in answer:
        parts.insert(0, f"{answer.get('provider', 'the vendor')} said {answer['ExternalVerdict']}")
    return "; ".join(part for part in parts if part) or None
