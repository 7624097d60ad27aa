"""Pages for batches: the batch upload page, the jobs list and a live page per job."""

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from webapp.models import JobStatus
from webapp.providers.registry import PROVIDERS, policy
from webapp.services.jobs import bulk_jobs, notifications
from webapp.services.photos import direct_uploads
from webapp.views.fragments import render_page_or_fragment
from webapp.views.params import int_arg, photo_filter

blueprint = Blueprint("jobs", __name__)

IMAGES_PER_PAGE = 50


@blueprint.get("/batch")
@login_required
def batch():
    """Upload hundreds of files into one moderation job, or (`?job=<id>`) continue one still open;
    straight to the bucket when the server offers direct uploads."""
    job_id = request.args.get("job")
    job = bulk_jobs.find_job(current_user, job_id) if job_id else None
    if job is not None and job.status != JobStatus.UPLOADING:
        return redirect(url_for("jobs.job", job_id=job.id))
    return render_template(
        "pages/batch.html", providers=PROVIDERS, job=job, direct_uploads=direct_uploads.offered()
    )


@blueprint.get("/jobs")
@login_required
def job_list():
    """Every job with its live progress; the list polls while a job is still running."""
    jobs = bulk_jobs.list_jobs(current_user)
    return render_page_or_fragment("pages/jobs.html", "partials/jobs_table.html", jobs=jobs, policy=policy())


@blueprint.get("/jobs/<job_id>")
@login_required
def job(job_id: str):
    """A job's counters and a page of its images (filtered by verdict and state), updated live until
    the job ends."""
    found = bulk_jobs.find_job(current_user, job_id)
    filters = photo_filter()
    page = bulk_jobs.job_page(found, int_arg("page", 1), IMAGES_PER_PAGE, with_images=True, filters=filters)
    deliveries = notifications.deliveries_of(found.id)
    return render_page_or_fragment(
        "pages/job.html", "partials/job_detail.html", job=found, page=page, deliveries=deliveries
    )
