"""Review work shared by a team (blueprint `review_api`, moderators): the caller's share of the queue,
claims and escalation; and the shapes of the queue and its items."""

from webapp.models import ModerationStatus
from webapp.services.moderation.claims import MAX_CLAIMS, Queue
from webapp.views.openapi.shapes import (
    NULLABLE_STRING,
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
from webapp.views.review_api import DEFAULT_LIMIT

CLAIMS = (
    "A claim lasts `REVIEW_CLAIM_SECONDS` (300 by default) and is renewed whenever its holder asks for the "
    "queue; once it lapses the image is anyone's again."
)
NOT_WAITING = "`not_waiting`: the image has been decided, nobody needs to hold it."


def paths() -> dict:
    """The review work operations, by path."""
    item_id = [path_id("virtual_image_id")]
    return {
        "/api/review/queue": {"get": queue()},
        "/api/review/items/{virtual_image_id}/claim": {
            "parameters": item_id,
            "post": claim(),
            "delete": release(),
        },
        "/api/review/items/{virtual_image_id}/escalate": {"parameters": item_id, "post": escalate()},
    }


def queue() -> dict:
    parameters = [
        {
            "name": "limit",
            "in": "query",
            "description": "How many images to hold at most.",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_CLAIMS, "default": DEFAULT_LIMIT},
        },
        {
            "name": "queue",
            "in": "query",
            "description": "`escalated`: the images moderators passed to the admins (admins only).",
            "schema": {
                "type": "string",
                "enum": [queue.value for queue in Queue],
                "default": Queue.MODERATORS.value,
            },
        },
    ]
    return {
        "summary": "Your share of the review queue: your claims, topped up from the oldest waiting images",
        "description": "Answers the images you hold, each claim renewed, and as many more of the oldest "
        "images nobody holds as make `limit` (flagged ones and appeals first, then those no machine could "
        "moderate), claimed for you. Two moderators asking at once never get the same image. "
        f"{CLAIMS} An appeal is never given to the moderator whose decision it appeals.",
        "parameters": parameters,
        "responses": {"200": json_answer(ref("ReviewQueue"), "Your claims."), **errors(400, 403)},
    }


def claim() -> dict:
    take_over = {
        "type": ["boolean", "null"],
        "description": "Admins: take the image from the moderator who holds it.",
    }
    return {
        "summary": "Hold one image while you decide it",
        "description": CLAIMS,
        "requestBody": json_body(body_object({"take_over": take_over}), required=False),
        "responses": {
            "200": json_answer(ref("ReviewItem"), "Yours until `claimed_until`."),
            **errors(400, 404, 422),
            "403": json_answer(
                ref("Error"),
                "`forbidden`: not a moderator, or a take-over by someone who is not an admin. `escalated`: "
                "the image was passed to the admins.",
            ),
            "409": json_answer(
                ref("Error"),
                "`claimed_by_another`: another moderator holds it (an admin may take it over). "
                f"`same_reviewer`: an appeal of your own decision. {NOT_WAITING}",
            ),
        },
    }


def release() -> dict:
    return {
        "summary": "Let an image go back to the queue",
        "responses": {
            "204": {"description": "Released (or you did not hold it)."},
            **errors(403, 404),
            "409": json_answer(ref("Error"), NOT_WAITING),
        },
    }


def escalate() -> dict:
    note = {"type": ["string", "null"], "maxLength": MAX_NOTE_LENGTH, "description": "For the admins."}
    return {
        "summary": "Pass an image to the admins' queue, with a note",
        "description": "Your claim on it ends; only an admin decides it from now on.",
        "requestBody": json_body(body_object({"note": note}), required=False),
        "responses": {
            "200": json_answer(ref("ReviewItem"), "In the `escalated` queue."),
            **errors(400, 403, 404, 422),
            "409": json_answer(
                ref("Error"), f"`claimed_by_another`: another moderator holds it. {NOT_WAITING}"
            ),
        },
    }


REVIEW_ITEM = obj(
    {
        "virtual_image_id": UUID,
        "session_id": UUID,
        "url": {
            "type": "string",
            "format": "uri",
            "description": "The photo: `GET /api/photos/{session_id}`.",
        },
        "filename": {"type": "string"},
        "status": {"type": "string", "enum": [status.value for status in ModerationStatus]},
        "labels": {"type": "array", "items": ref("Label")},
        "claimed_until": {**TIME, "description": "Until when you hold it; null once it was escalated."},
        "escalation": {
            "oneOf": [
                {"type": "null"},
                obj({"at": TIME, "note": NULLABLE_STRING}),
            ],
            "description": "When and why a moderator passed it to the admins.",
        },
        "appeal": {
            "oneOf": [
                {"type": "null"},
                obj(
                    {
                        "message": {"type": "string"},
                        "created_at": TIME,
                        "verdict_appealed": {"type": "string"},
                    }
                ),
            ],
            "description": "The uploader's appeal of the verdict, with their message: decide it again.",
        },
    }
)

REVIEW_QUEUE = obj(
    {
        "items": {"type": "array", "items": ref("ReviewItem")},
        "waiting": {"type": "integer", "description": "Images in this queue that nobody holds."},
        "oldest_waiting_seconds": {
            "type": ["number", "null"],
            "description": "How long the oldest of them has waited, since its upload or its appeal (null: "
            "none waits).",
        },
    }
)

SCHEMAS = {"ReviewItem": REVIEW_ITEM, "ReviewQueue": REVIEW_QUEUE}
