"""The audit log over the API: GET /api/audit (admins)."""

from flask import Blueprint, jsonify

from webapp.auth import admin_required
from webapp.models import AuditEvent
from webapp.services.moderation import audit_log
from webapp.services.photos.photos import iso
from webapp.views.params import MAX_PER_PAGE, audit_filter, int_arg

blueprint = Blueprint("audit_api", __name__, url_prefix="/api")


@blueprint.get("/audit")
@admin_required
def events():
    """The log's events, newest first (`page`, `per_page`), filtered by `virtual_image_id`, `actor`,
    `kind`, `since` and `until`."""
    filters = audit_filter()
    per_page = int_arg("per_page", 50, MAX_PER_PAGE)
    page = audit_log.events_page(filters, int_arg("page", 1), per_page)
    return jsonify(
        events=[describe_event(entry.event) for entry in page.entries],
        page=page.page,
        per_page=page.per_page,
        total=page.total,
    )


def describe_event(event: AuditEvent) -> dict:
    """One event: who (a person's email and id, or a provider's name), when, what, before → after, note."""
    return {
        "id": str(event.id),
        "at": iso(event.at),
        "kind": event.kind.value,
        "actor": event.actor,
        "actor_id": str(event.actor_id) if event.actor_id else None,
        "virtual_image_id": str(event.virtual_image_id) if event.virtual_image_id else None,
        "before": event.before,
        "after": event.after,
        "note": event.note,
    }
