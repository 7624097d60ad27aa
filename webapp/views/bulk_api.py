"""The bulk NSFW JSON API (/docs/api): jobs, their files, submission and status."""

import re

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user

from webapp.auth import api_login_required
from webapp.errors import AppError, ServiceUnavailable
from webapp.providers.registry import choose_provider
from webapp.rate_limits import count_uploaded_files, limit_uploads
from webapp.services.jobs import bulk_jobs
from webapp.services.photos import deletion, direct_uploads, uploads
from webapp.services.photos.uploads import MAX_FILENAME_LENGTH, display_filename
from webapp.views.describe import describe_batch_result, describe_job_status
from webapp.views.links import job_url
from webapp.views.params import (
    MAX_NAME_LENGTH,
    MAX_PER_PAGE,
    MAX_URL_LENGTH,
    BadUploadOrder,
    InvalidField,
    form_string,
    int_arg,
    int_field,
    json_object,
    photo_filter,
    string_field,
    upload_orders,
)

blueprint = Blueprint("bulk_api", __name__, url_prefix="/api/bulk-nsfw")

# One check covers a batch page's worth of files; a client checks thousands in several requests.
MAX_CHECKED_FILES = 1000
MAX_FILE_SIZE = 2**53 - 1
SHA256_HEX = re.compile(r"[0-9a-f]{64}")


@blueprint.post("/upload")
@api_login_required
@limit_uploads
def upload_batch():
    """Create a job from one request's files (`files`, in upload order), store them and submit it."""
    files = _batch_files()
    provider = choose_provider(form_string("provider", MAX_NAME_LENGTH))
    job = bulk_jobs.create_job(current_user, provider, form_string("callback_url", MAX_URL_LENGTH))
    try:
        result = uploads.accept_batch(current_user, job, files)
    except ServiceUnavailable:
        bulk_jobs.discard_empty_job(job)  # the client is told 503: nothing of this request stays
        raise
    job = bulk_jobs.submit_job(job)
    body = {"job_id": str(job.id), "url": job_url(job), "status": job.status.value, "total": job.total}
    return jsonify(body | describe_batch_result(result)), 202


@blueprint.get("/jobs")
@api_login_required
def list_jobs():
    """The caller's jobs, newest first."""
    return jsonify(jobs=[describe_job_status(job, None) for job in bulk_jobs.list_jobs(current_user)])


@blueprint.post("/jobs")
@api_login_required
def create_job():
    """Open a job for files to be sent in several requests."""
    body = json_object()
    provider = choose_provider(string_field(body, "provider", MAX_NAME_LENGTH))
    job = bulk_jobs.create_job(current_user, provider, string_field(body, "callback_url", MAX_URL_LENGTH))
    url = job_url(job)
    answer = jsonify(
        job_id=str(job.id),
        url=url,
        status=job.status.value,
        provider=job.provider,
        callback_url=job.callback_url,
    )
    return answer, 201, {"Location": url}


@blueprint.get("/jobs/<job_id>")
@api_login_required
def get_job(job_id: str):
    """A job: its state and counters (its images are at /<job_id>/status)."""
    return jsonify(describe_job_status(bulk_jobs.find_job(current_user, job_id), None))


@blueprint.post("/jobs/<job_id>/files")
@api_login_required
@limit_uploads
def add_files(job_id: str):
    """Store more files into an open job (`files`, optional matching `upload_order` fields)."""
    job = bulk_jobs.find_job(current_user, job_id)
    return jsonify(describe_batch_result(uploads.accept_batch(current_user, job, _batch_files())))


@blueprint.post("/jobs/<job_id>/check")
@api_login_required
def check_files(job_id: str):
    """Which files the job holds already (`{"files": [{sha256, size, filename}]}`): a client resuming
    a batch sends only the missing ones, numbered from `next_upload_order`."""
    job = bulk_jobs.find_job(current_user, job_id)
    checked, next_order = bulk_jobs.check_files(job, _checked_files(json_object()))
    return jsonify(
        job_id=str(job.id),
        status=job.status.value,
        next_upload_order=next_order,
        files=[
            {
                "sha256": file.sha256,
                "size": file.size,
                "filename": file.filename,
                "status": "present" if file.present else "missing",
                "upload_order": file.upload_order,
            }
            for file in checked
        ],
    )


@blueprint.post("/jobs/<job_id>/submit")
@api_login_required
def submit_job(job_id: str):
    """Close the job to new files and queue its photos."""
    job = bulk_jobs.submit_job(bulk_jobs.find_job(current_user, job_id))
    direct_uploads.discard_unfinished(job.id)
    return jsonify(job_id=str(job.id), url=job_url(job), status=job.status.value, total=job.total), 202


@blueprint.get("/<job_id>/status")
@api_login_required
def job_status(job_id: str):
    """Counters and one page of the job's images (`page`, `per_page`), filtered by `verdict` and `state`."""
    job = bulk_jobs.find_job(current_user, job_id)
    per_page = int_arg("per_page", 50, MAX_PER_PAGE)
    page = bulk_jobs.job_page(job, int_arg("page", 1), per_page, filters=photo_filter())
    return jsonify(describe_job_status(job, page))


@blueprint.delete("/jobs/<job_id>")
@api_login_required
def delete_job(job_id: str):
    """Delete a job with every photo of it."""
    deletion.delete_job(current_user, job_id)
    return "", 204


def _batch_files() -> list[uploads.BatchFile]:
    """The request's files with their upload orders, within the batch limits."""
    limit = current_app.config["MAX_BATCH_FILES"]
    # Every file is a multipart part; Flask's default of 1,000 parts would refuse big batches.
    request.max_form_parts = 2 * limit + 10
    count_uploaded_files()
    files = request.files.getlist("files")
    if not files:
        raise AppError("Attach the photos as repeated multipart fields 'files'.")
    if len(files) > limit:
        raise AppError(f"At most {limit} files per request.")
    orders = _upload_orders(len(files))
    return [
        uploads.BatchFile(file.stream, file.filename, order)
        for file, order in zip(files, orders, strict=True)
    ]


def _checked_files(body: dict) -> list[bulk_jobs.FileCheck]:
    """The `files` of a check: each a SHA-256 (64 hex digits), a size in bytes and a filename."""
    files = body.get("files")
    if not isinstance(files, list) or not 1 <= len(files) <= MAX_CHECKED_FILES:
        raise InvalidField(f"'files' must be a list of 1 to {MAX_CHECKED_FILES:,} files.")
    checked = []
    for number, file in enumerate(files):
        if not isinstance(file, dict):
            raise InvalidField(f"'files[{number}]' must be an object.")
        sha256 = string_field(file, "sha256", 64) or ""
        size = int_field(file, "size", 0, MAX_FILE_SIZE)
        if not SHA256_HEX.fullmatch(sha256.lower()) or size is None:
            raise InvalidField(f"'files[{number}]' needs a 'sha256' (64 hex digits) and a 'size' in bytes.")
        name = display_filename(string_field(file, "filename", MAX_FILENAME_LENGTH))
        checked.append(bulk_jobs.FileCheck(sha256.lower(), size, name))
    return checked


def _upload_orders(count: int) -> list[int | None]:
    values = request.form.getlist("upload_order")
    if not values:
        return [None] * count
    if len(values) != count:
        raise BadUploadOrder("Send one upload_order per file, or none.")
    orders = upload_orders(values)
    if min(orders) < 0 or len(set(orders)) != len(orders):
        raise BadUploadOrder("upload_order values must be distinct and not negative.")
    return orders
