"""Moderation decisions by hand (blueprint `reviews_api`, admins); and the shape of a decision."""

from webapp.views.openapi.shapes import (
    TIME,
    UUID,
    body_object,
    errors,
    json_answer,
    json_body,
    obj,
    path_id,
    ref,
)
from webapp.views.params import MAX_NOTE_LENGTH


def paths() -> dict:
    """The review operation, by path."""
    return {
        "/api/virtual-images/{virtual_image_id}/review": {
            "parameters": [path_id("virtual_image_id")],
            "post": review(),
        }
    }


def review() -> dict:
    decision = {
        "verdict": {"type": "string", "enum": ["approved", "rejected"]},
        "note": {
            "type": ["string", "null"],
            "maxLength": MAX_NOTE_LENGTH,
            "description": "Internal: shown to admins, never to the uploader.",
        },
        "message": {
            "type": ["string", "null"],
            "maxLength": MAX_NOTE_LENGTH,
            "description": "For the uploader: shown with the verdict on their photo's page and in its "
            "moderation.",
        },
    }
    return {
        "summary": "Approve or reject an image by hand (admins)",
        "requestBody": json_body(body_object(decision, ["verdict"])),
        "responses": {"200": json_answer(ref("Review"), "Recorded."), **errors(400, 403, 404, 422)},
    }


REVIEW = obj(
    {
        "virtual_image_id": UUID,
        "verdict_before": {"type": "string"},
        "verdict_after": {"type": "string"},
        "reviewer": {
            "type": ["string", "null"],
            "description": "Admins: who decided (an email). Null for the uploader: a moderator decided.",
        },
        "note": {
            "type": ["string", "null"],
            "description": "Admins: the reviewer's internal note. Null for the uploader.",
        },
        "message": {
            "type": ["string", "null"],
            "description": "What the reviewer wrote for the uploader, who reads it with the verdict.",
        },
        "reviewed_at": TIME,
    }
)

SCHEMAS = {"Review": REVIEW}
