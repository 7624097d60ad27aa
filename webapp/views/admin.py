"""Admin pages: RQ's queues, workers and failures tied to our photos and jobs; requeues and cancels."""

from flask import Blueprint, redirect, request, url_for
from flask_login import current_user

from webapp.auth import admin_pages_only
from webapp.services.jobs import bulk_jobs
from webapp.services.moderation import second_opinion
from webapp.services.operations.queue_admin import requeues
from webapp.services.operations.queue_admin.overview import overview
from webapp.views.fragments import render_page_or_fragment

blueprint = Blueprint("admin", __name__, url_prefix="/admin")


blueprint.before_request(admin_pages_only)


@blueprint.get("/queues")
def queues_page():
    """Counts per queue, workers, failures grouped by error and running jobs; the page polls every 2 s."""
    return _queues_page()


@blueprint.post("/queues/failed/<job_id>/requeue")
def requeue_job(job_id: str):
    """Put one failed job back on its queue; answers the page's fragment saying so."""
    return _queues_page(_requeued(requeues.requeue(job_id, current_user)))


@blueprint.post("/queues/failed/requeue-group")
def requeue_group():
    """Requeue every failed job of one group (exception type and first line of its message)."""
    form = request.form
    requeued = requeues.requeue_group(form.get("type", ""), form.get("message", ""), current_user)
    return _queues_page(_requeued(requeued))


@blueprint.post("/queues/failed/requeue-all")
def requeue_all():
    """Requeue the failed jobs of every queue."""
    requeued = requeues.requeue_all(current_user)
    more = " Press again for the rest." if requeued == requeues.REQUEUE_LIMIT else ""
    return _queues_page(_requeued(requeued) + more)


@blueprint.post("/jobs/<job_id>/cancel")
def cancel_job(job_id: str):
    """End a bulk job `cancelled`; answers the job page's fragment when asked from there."""
    job = bulk_jobs.find_job(current_user, job_id)
    try:
        bulk_jobs.cancel_job(job, current_user)
        message = f"Job {job.id} cancelled."
    except bulk_jobs.JobAlreadyEnded as ended:
        # Answered, not raised: htmx swaps no 409, and the page shown then says how the job ended.
        message = ended.message
    if request.form.get("from") == "job":
        page = request.form.get("page", 1, type=int)
        return redirect(url_for("jobs.job", job_id=job.id, page=page), 303)
    return _queues_page(message)


def _queues_page(message: str | None = None):
    return render_page_or_fragment(
        "pages/admin_queues.html",
        "partials/admin_queues.html",
        overview=overview(),
        message=message,
        second_opinions=second_opinion.share().sentence(),
    )


def _requeued(count: int) -> str:
    if not count:
        return "Nothing was requeued: no failed list holds those jobs any more."
    return f"Requeued {count} failed job{'' if count == 1 else 's'}."
