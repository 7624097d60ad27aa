"""The JSON API (/docs/api): single-photo upload and status, and appealing a photo's verdict."""

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user

from webapp.auth import api_login_required
from webapp.errors import MissingFile
from webapp.providers.registry import choose_provider
from webapp.rate_limits import count_uploaded_files, limit_uploads
from webapp.services.moderation import appeals
from webapp.services.photos import deletion, photos, uploads
from webapp.uploaded_files import limit_to_one_file
from webapp.views.describe import describe_appeal, describe_session
from webapp.views.params import MAX_NAME_LENGTH, MAX_PER_PAGE, form_string, int_arg, json_object, photo_filter

blueprint = Blueprint("api", __name__, url_prefix="/api")


@blueprint.post("/photos/upload")
@api_login_required
@limit_uploads
def upload_photo():
    """Accept one photo (multipart field `file`) and queue its processing."""
    limit_to_one_file(request, current_app.config["MAX_FILE_BYTES"])
    count_uploaded_files()
    upload = request.files.get("file")
    if upload is None:
        raise MissingFile()
    placement = uploads.Placement(choose_provider(form_string("provider", MAX_NAME_LENGTH)))
    accepted = uploads.accept_photo(current_user, upload.stream, upload.filename, placement)
    body = {
        "session_id": str(accepted.session_id),
        "virtual_image_id": str(accepted.virtual_image_id),
        "status": "pending",
    }
    return jsonify(body), 202


@blueprint.get("/photos")
@api_login_required
def list_photos():
    """The caller's photos, newest first (`page`, `per_page`), filtered by `verdict` and `state`."""
    per_page = int_arg("per_page", 50, MAX_PER_PAGE)
    page = photos.list_sessions(current_user, int_arg("page", 1), per_page, photo_filter())
    return jsonify(
        photos=[describe_session(session) for session in page.sessions],
        page=page.page,
        per_page=page.per_page,
        total=page.total,
    )


@blueprint.get("/photos/<session_id>")
@api_login_required
def get_photo(session_id: str):
    """One photo's status, stored images (with short-lived URLs) and moderation."""
    session = photos.find_session(current_user, session_id)
    return jsonify(describe_session(session))


@blueprint.post("/photos/<session_id>/appeal")
@api_login_required
def appeal(session_id: str):
    """Appeal the verdict on one's own flagged or rejected photo, once (`{"message": "..."}`)."""
    message = json_object().get("message")
    filed = appeals.appeal(current_user, session_id, message if isinstance(message, str) else None)
    return jsonify(describe_appeal(filed)), 201


@blueprint.delete("/photos/<session_id>")
@api_login_required
def delete_photo(session_id: str):
    """Delete a photo: its stored objects and rows; its job's counters follow."""
    deletion.delete_photo(current_user, session_id)
    return "", 204
