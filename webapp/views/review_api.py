"""Review work over the API (moderators): the caller's share of the queue, claims and escalation.

GET /api/review/queue, POST and DELETE /api/review/items/<id>/claim, POST /api/review/items/<id>/escalate.
"""

from flask import Blueprint, jsonify, url_for
from flask_login import current_user

from webapp.auth import moderator_required
from webapp.models import VirtualImage
from webapp.services.moderation import claims
from webapp.services.moderation.moderation_details import labels_for
from webapp.services.photos.photos import iso
from webapp.views.params import MAX_NOTE_LENGTH, bool_field, choice_arg, int_arg, json_object, string_field

blueprint = Blueprint("review_api", __name__, url_prefix="/api/review")

DEFAULT_LIMIT = 25


@blueprint.get("/queue")
@moderator_required
def queue():
    """The caller's claims, renewed and topped up to `limit` from the oldest images nobody holds; how
    many nobody holds, and how long the oldest of them has waited."""
    limit = int_arg("limit", DEFAULT_LIMIT, claims.MAX_CLAIMS)
    work = claims.take_work(current_user, limit, choice_arg("queue", claims.Queue, claims.Queue.MODERATORS))
    return jsonify(
        items=[describe_item(item.virtual_image) for item in work.items],
        waiting=work.waiting,
        oldest_waiting_seconds=work.oldest_waiting_seconds,
    )


@blueprint.post("/items/<virtual_image_id>/claim")
@moderator_required
def claim(virtual_image_id: str):
    """Hold one image (`{"take_over": true}`: an admin takes it from whoever holds it)."""
    take_over = bool_field(json_object(), "take_over") or False
    return jsonify(describe_item(claims.claim(current_user, virtual_image_id, take_over)))


@blueprint.delete("/items/<virtual_image_id>/claim")
@moderator_required
def release(virtual_image_id: str):
    """Let an image go back to the queue."""
    claims.release(current_user, virtual_image_id)
    return "", 204


@blueprint.post("/items/<virtual_image_id>/escalate")
@moderator_required
def escalate(virtual_image_id: str):
    """Pass an image to the admins' queue, with a note for them (`{"note"?}`)."""
    note = string_field(json_object(), "note", MAX_NOTE_LENGTH)
    return jsonify(describe_item(claims.escalate(current_user, virtual_image_id, note)))


def describe_item(image: VirtualImage) -> dict:
    """An image in the review queue, as /api/openapi.json's ReviewItem."""
    appeal = image.appeal if image.appeal is not None and image.appeal.is_pending else None
    return {
        "virtual_image_id": str(image.id),
        "session_id": str(image.session_id),
        "url": url_for("api.get_photo", session_id=image.session_id, _external=True),
        "filename": image.original_filename,
        "status": image.moderation_status.value,
        "labels": labels_for(image, current_user),
        "claimed_until": iso(image.claimed_until),
        "escalation": None
        if image.escalated_at is None
        else {"at": iso(image.escalated_at), "note": image.escalation_note},
        "appeal": None
        if appeal is None
        else {
            "message": appeal.message,
            "created_at": iso(appeal.created_at),
            "verdict_appealed": appeal.verdict_appealed,
        },
    }
