"""Moderation decisions by hand (blueprint `reviews_api`, moderators); and the shape of a decision."""

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
            "description": "Internal: shown to moderators and admins, never to the uploader.",
        },
        "message": {
            "type": ["string", "null"],
            "maxLength": MAX_NOTE_LENGTH,
            "description": "For the uploader: shown with the verdict on their photo's page and in its "
            "moderation.",
        },
    }
    return {
        "summary": "Approve or reject an image by hand (moderators)",
        "description": "Refused while another moderator holds the image (`POST "
        "/api/review/items/{virtual_image_id}/claim`), and for a moderator once it was passed to the admins.",
        "requestBody": json_body(body_object(decision, ["verdict"])),
        "responses": {
            "200": json_answer(ref("Review"), "Recorded."),
            **errors(400, 404, 422),
            "403": json_answer(
                ref("Error"),
                "`forbidden`: not a moderator. `escalated`: the image was passed to the admins, and only "
                "an admin decides it now.",
            ),
            "409": json_answer(
                ref("Error"),
                "`claimed_by_another`: another moderator holds the image. `same_reviewer`: the image's "
                "appeal is about your own decision; another moderator decides it. `appeal_decided`: the "
                "image's appeal was decided, and that decision is final.",
            ),
        },
    }


REVIEW = obj(
    {
        "virtual_image_id": UUID,
        "verdict_before": {"type": "string"},
        "verdict_after": {"type": "string"},
        "reviewer": {
            "type": ["string", "null"],
            "description": "Moderators: who decided (an email). Null for the uploader: a moderator decided.",
        },
        "note": {
            "type": ["string", "null"],
            "description": "Moderators: the reviewer's internal note. Null for the uploader.",
        },
        "message": {
            "type": ["string", "null"],
            "description": "What the reviewer wrote for the uploader, who reads it with the verdict.",
        },
        "reviewed_at": TIME,
    }
)

SCHEMAS = {"Review": REVIEW}
