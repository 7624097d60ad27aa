"""The audit log (blueprint `audit_api`, admins): reading its events; and the shape of an event."""

from webapp.models import AuditKind
from webapp.models.users import EMAIL_LENGTH
from webapp.services.moderation.audit_log import MACHINES
from webapp.views.openapi.shapes import (
    NULLABLE_STRING,
    TIME,
    UUID,
    errors,
    json_answer,
    obj,
    paged,
    paging,
    ref,
)


def paths() -> dict:
    """The audit operation, by path."""
    return {"/api/audit": {"get": events()}}


def events() -> dict:
    moment = {"type": "string", "format": "date-time"}
    filters = {
        "virtual_image_id": ("Keep the events of this image.", UUID),
        "actor": (
            "Keep the events of this actor, in any case: a person's email, or the name of a provider or "
            f"mechanism ({', '.join(f'`{name}`' for name in MACHINES)}).",
            {"type": "string", "maxLength": EMAIL_LENGTH},
        ),
        "kind": (
            "Keep events of this kind; may be repeated, and an event passes with any kind given.",
            {"type": "array", "items": {"type": "string", "enum": [kind.value for kind in AuditKind]}},
        ),
        "since": ("Keep events at or after this moment (ISO 8601; UTC when it names no offset).", moment),
        "until": ("Keep events before this moment (ISO 8601; UTC when it names no offset).", moment),
    }
    parameters = [
        {"name": name, "in": "query", "description": description, "schema": schema}
        | ({"style": "form", "explode": True} if schema.get("type") == "array" else {})
        for name, (description, schema) in filters.items()
    ]
    return {
        "summary": "The audit log, newest first (admins)",
        "description": "Every decision (by a provider, a bank match, a vendor or a person), claim, takeover, "
        "release, escalation, appeal, decision on an appeal, image of a cancelled job and requeue. A filter "
        "that does not read is a 400 naming it; moderators and users get 403.",
        "parameters": paging() + parameters,
        "responses": {
            "200": json_answer(paged("events", ref("AuditEvent")), "One page of events."),
            **errors(400, 403),
        },
    }


AUDIT_EVENT = obj(
    {
        "id": UUID,
        "at": TIME,
        "kind": {"type": "string", "enum": [kind.value for kind in AuditKind]},
        "actor": {
            "type": "string",
            "description": "Who acted: a person's email as it was then, or a provider or mechanism's name.",
        },
        "actor_id": {
            "type": ["string", "null"],
            "format": "uuid",
            "description": "The person's account; null for a machine, or once the account is deleted.",
        },
        "virtual_image_id": {
            "type": ["string", "null"],
            "format": "uuid",
            "description": "The image it concerns (which may since have been deleted).",
        },
        "before": {
            **NULLABLE_STRING,
            "description": "The image's verdict before, where the event changed it.",
        },
        "after": {**NULLABLE_STRING, "description": "The image's verdict after."},
        "note": {
            **NULLABLE_STRING,
            "description": "Why: a reviewer's note, an error's reason, the bank matched, the strongest "
            "labels, an escalation's note, an appeal's message.",
        },
    }
)

SCHEMAS = {"AuditEvent": AUDIT_EVENT}
