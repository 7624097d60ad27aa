"""Webhooks in (blueprint `webhooks`): a moderation vendor's signed verdict."""

from webapp.models import ModerationStatus
from webapp.views.openapi.shapes import UUID, body_object, errors, json_answer, json_body, obj, ref
from webapp.views.params import MAX_NAME_LENGTH


def paths() -> dict:
    """The webhook operation, by path."""
    return {"/api/webhooks/moderation": {"post": moderation_callback()}}


def moderation_callback() -> dict:
    verdict = {
        "virtual_image_id": UUID,
        "verdict": {"type": "string", "enum": ["approved", "rejected", "flagged"]},
        "labels": {"type": "array", "items": ref("Label")},
        "provider": {"type": "string", "maxLength": MAX_NAME_LENGTH},
        "model_version": {"type": "string"},
    }
    answer = obj(
        {
            "status": {"type": "string"},
            "webhook_id": {"type": "string"},
            "moderation_status": {
                "type": "string",
                "enum": [status.value for status in ModerationStatus],
                "description": "The image's verdict now (absent for a webhook-id applied before).",
            },
        },
        ["status", "webhook_id"],
    )
    return {
        "summary": "A moderation vendor's verdict, signed per Standard Webhooks",
        "security": [],
        "parameters": [
            {"name": name, "in": "header", "required": True, "schema": {"type": "string"}}
            for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
        ],
        "requestBody": json_body(body_object(verdict, ["virtual_image_id", "verdict"])),
        "responses": {
            "200": json_answer(answer, "Applied, or already applied."),
            **errors(400, 404, 409, 413, 422),
        },
    }
