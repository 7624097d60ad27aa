"""Webhooks in: POST /api/webhooks/moderation from the external moderation service (/docs/api)."""

from flask import Blueprint, current_app, jsonify, request

from webapp.services.moderation import external_moderation

blueprint = Blueprint("webhooks", __name__, url_prefix="/api/webhooks")


@blueprint.post("/moderation")
def moderation_callback():
    """Verify a signed verdict and apply it to an image awaiting it; a replayed webhook-id changes nothing."""
    # Capped before anything is read: a larger body is refused with 413 without being parsed.
    request.max_content_length = current_app.config["WEBHOOK_MAX_BYTES"]
    result = external_moderation.receive(request.get_data(cache=False), dict(request.headers))
    return jsonify(result), 200
