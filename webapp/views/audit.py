"""The audit log's page for admins: filters, a page of events at a time, and the whole as CSV."""

from flask import Blueprint, Response, render_template, stream_with_context

from webapp.auth import admin_pages_only
from webapp.models import AuditKind
from webapp.models.types import utcnow
from webapp.services.moderation import audit_log
from webapp.views.params import InvalidParameter, audit_filter, int_arg

blueprint = Blueprint("audit", __name__, url_prefix="/admin")

PER_PAGE = 50


blueprint.before_request(admin_pages_only)


@blueprint.get("/audit")
def page():
    """The events that pass the form's filters, newest first; a filter that does not read is said above
    the form, and nothing is listed."""
    context = {"kinds": list(AuditKind), "actors": audit_log.likely_actors()}
    try:
        events = audit_log.events_page(audit_filter(), int_arg("page", 1), PER_PAGE)
    except InvalidParameter as invalid:
        return render_template("pages/admin_audit.html", events=None, error=invalid.message, **context), 400
    return render_template("pages/admin_audit.html", events=events, error=None, **context)


@blueprint.get("/audit.csv")
def csv():
    """Every event that passes the filters, as CSV, streamed; a download."""
    filters = audit_filter()
    filename = f"photogate-audit-{utcnow():%Y%m%d-%H%M%S}.csv"
    return Response(
        stream_with_context(audit_log.csv_lines(filters)),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
