"""Moderation decisions over the API: POST /api/virtual-images/<id>/review (moderators)."""

from flask import Blueprint, jsonify
from flask_login import current_user

from webapp.auth import moderator_required
from webapp.services.moderation import reviews
from webapp.views.describe import describe_review
from webapp.views.params import MAX_NAME_LENGTH, MAX_NOTE_LENGTH, json_object, string_field

blueprint = Blueprint("reviews_api", __name__, url_prefix="/api/virtual-images")


@blueprint.post("/<virtual_image_id>/review")
@moderator_required
def review(virtual_image_id: str):
    """Approve or reject an image by hand (`{"verdict": "approved"|"rejected", "note"?, "message"?}`):
    the note stays internal, the message is for the uploader."""
    body = json_object()
    decision = reviews.decide(
        current_user,
        virtual_image_id,
        string_field(body, "verdict", MAX_NAME_LENGTH),
        string_field(body, "note", MAX_NOTE_LENGTH),
        string_field(body, "message", MAX_NOTE_LENGTH),
    )
    return jsonify(describe_review(decision))
