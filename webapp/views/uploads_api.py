"""Uploads straight to the bucket (/docs/api): what the server offers, presigned POSTs, completion."""

from flask import Blueprint, current_app, jsonify
from flask_login import current_user

from webapp.auth import api_login_required
from webapp.errors import AppError
from webapp.providers.registry import choose_provider
from webapp.rate_limits import count_declared_files, limit_uploads
from webapp.services.jobs import bulk_jobs
from webapp.services.photos import direct_uploads
from webapp.services.photos.uploads import MAX_FILENAME_LENGTH, display_filename
from webapp.views.bulk_api import MAX_FILE_SIZE, SHA256_HEX
from webapp.views.describe import refused_file
from webapp.views.params import (
    MAX_NAME_LENGTH,
    MAX_UPLOAD_ORDER,
    BadUploadOrder,
    InvalidField,
    int_field,
    json_object,
    known_fields,
    string_field,
)

blueprint = Blueprint("uploads_api", __name__, url_prefix="/api/uploads")

# A batch page asks for a few at a time; a client with thousands asks in several requests.
MAX_DECLARED_FILES = 1000
FILE_FIELDS = ("filename", "size", "content_type", "sha256", "upload_order")


@blueprint.get("")
@api_login_required
def capabilities():
    """Whether to send files straight to the bucket here, and within what."""
    config = current_app.config
    return jsonify(
        direct=direct_uploads.offered(),
        max_file_bytes=config["MAX_FILE_BYTES"],
        max_files=MAX_DECLARED_FILES,
        content_types=list(direct_uploads.CONTENT_TYPES),
        expires_in=config["DIRECT_UPLOAD_EXPIRES"],
        abandon_after=config["DIRECT_UPLOAD_ABANDON_AFTER"],
    )


@blueprint.post("")
@api_login_required
@limit_uploads
def issue_uploads():
    """A presigned POST for each declared file (`files`), into a job (`job_id`) or as single photos."""
    body = known_fields(json_object(), ("files", "job_id", "provider"))
    files = _declared_files(body)
    job_id = string_field(body, "job_id", 36)
    job = bulk_jobs.find_job(current_user, job_id) if job_id else None
    if job is not None and body.get("provider") is not None:
        raise InvalidField("'provider' is the job's: leave it out when sending into a job.")
    if job is None and any(file.upload_order is not None for file in files):
        raise BadUploadOrder("'upload_order' places a file in a job: send it with 'job_id'.")
    if not direct_uploads.offered():
        raise direct_uploads.DirectUploadsUnavailable()  # before anything counts against the limits
    count_declared_files(len(files), sum(file.size for file in files))
    provider = job.provider if job else choose_provider(string_field(body, "provider", MAX_NAME_LENGTH))
    result = direct_uploads.issue(current_user, provider, job, files)
    return jsonify(
        uploads=[
            {
                "session_id": str(upload.session_id),
                "filename": upload.filename,
                "upload_order": upload.upload_order,
                "url": upload.url,
                "fields": upload.fields,
                "expires_at": upload.expires_at.isoformat(),
                "complete_url": f"/api/uploads/{upload.session_id}/complete",
            }
            for upload in result.issued
        ],
        rejected=[
            refused_file(refusal.filename, refusal.upload_order, refusal.error.code, refusal.error.message)
            for refusal in result.refused
        ],
    )


@blueprint.post("/<session_id>/complete")
@api_login_required
def complete_upload(session_id: str):
    """The file is in the bucket: check it and queue its photo."""
    accepted = direct_uploads.complete(current_user, session_id)
    return jsonify(
        session_id=str(accepted.session_id),
        virtual_image_id=str(accepted.virtual_image_id),
        status="pending",
        upload_order=accepted.upload_order,
    ), 202


def _declared_files(body: dict) -> list[direct_uploads.DeclaredFile]:
    """The `files` of a request: each a filename, a size, a content type, a SHA-256, maybe an upload order."""
    files = body.get("files")
    if not isinstance(files, list) or not 1 <= len(files) <= MAX_DECLARED_FILES:
        raise InvalidField(f"'files' must be a list of 1 to {MAX_DECLARED_FILES:,} files.")
    declared = []
    for number, file in enumerate(files):
        if not isinstance(file, dict):
            raise InvalidField(f"'files[{number}]' must be an object.")
        try:
            known_fields(file, FILE_FIELDS)
            size = int_field(file, "size", 0, MAX_FILE_SIZE)
            sha256 = (string_field(file, "sha256", 64) or "").lower()
            content_type = string_field(file, "content_type", 100)
            order = int_field(file, "upload_order", 0, MAX_UPLOAD_ORDER)
        except AppError as error:
            raise InvalidField(f"'files[{number}]': {error.message}") from None
        if size is None or content_type is None or not SHA256_HEX.fullmatch(sha256):
            raise InvalidField(
                f"'files[{number}]' needs a 'size' in bytes, a 'content_type' and a 'sha256' (64 hex digits)."
            )
        name = display_filename(string_field(file, "filename", MAX_FILENAME_LENGTH))
        declared.append(direct_uploads.DeclaredFile(name, size, content_type.lower(), sha256, order))
    orders = [file.upload_order for file in declared if file.upload_order is not None]
    if len(set(orders)) != len(orders):
        raise BadUploadOrder("upload_order values must be distinct.")
    return declared
