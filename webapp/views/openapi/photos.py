"""Single photos (blueprint `api`): upload, list, read, delete, appeal; and the shapes of a photo."""

from webapp.models import AppealOutcome, BankAction, ImageKind, ModerationStatus, SessionStatus
from webapp.services.moderation.appeals import MAX_MESSAGE
from webapp.views.openapi.shapes import (
    NULLABLE_STRING,
    PROVIDER,
    TIME,
    UPLOAD_LIMITS,
    UUID,
    body_object,
    errors,
    json_answer,
    json_body,
    multipart,
    obj,
    paged,
    paging,
    path_id,
    photo_filters,
    ref,
)


def paths() -> dict:
    """The photo operations, by path."""
    return {
        "/api/photos/upload": {"post": upload_photo()},
        "/api/photos": {"get": list_photos()},
        "/api/photos/{session_id}": {
            "parameters": [path_id("session_id")],
            "get": get_photo(),
            "delete": delete_photo(),
        },
        "/api/photos/{session_id}/appeal": {"parameters": [path_id("session_id")], "post": appeal()},
    }


def upload_photo() -> dict:
    return {
        "summary": "Upload one photo",
        "description": "JPEG (multi-picture too), PNG, WebP, GIF, HEIC/HEIF or AVIF, by content. "
        + UPLOAD_LIMITS,
        "requestBody": multipart(
            {"file": {"type": "string", "format": "binary"}, "provider": PROVIDER}, ["file"]
        ),
        "responses": {
            "202": json_answer(
                obj({"session_id": UUID, "virtual_image_id": UUID, "status": {"const": "pending"}}),
                "Stored and queued.",
            ),
            **errors(400, 409, 413, 415, 422, 503),
        },
    }


def list_photos() -> dict:
    return {
        "summary": "List your photos, newest first",
        "parameters": paging() + photo_filters(),
        "responses": {
            "200": json_answer(paged("photos", ref("Photo")), "One page of photos."),
            **errors(400),
        },
    }


def get_photo() -> dict:
    return {
        "summary": "A photo: status, stored images with short-lived URLs, moderation",
        "responses": {"200": json_answer(ref("Photo"), "The photo."), **errors(404)},
    }


def delete_photo() -> dict:
    return {
        "summary": "Delete a photo, its objects and rows (its owner, or an admin)",
        "description": "A moderator reads anyone's photo to review it, but deletes only their own (403).",
        "responses": {"204": {"description": "Deleted."}, **errors(403, 404, 503)},
    }


def appeal() -> dict:
    message = {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_MESSAGE,
        "description": "Why a person should look again; surrounding spaces are dropped.",
    }
    return {
        "summary": "Appeal the verdict on your flagged or rejected photo (once)",
        "description": "The photo joins the review queue as an appeal, which a moderator other than the one "
        "whose decision it appeals decides; that decision is final. 404 unless the photo is yours; 409 "
        "`already_appealed` for a second appeal, 409 `not_appealable` unless the photo is flagged or "
        "rejected; 422 `invalid_message` for a blank or too long message.",
        "requestBody": json_body(body_object({"message": message}, ["message"])),
        "responses": {"201": json_answer(ref("Appeal"), "Appealed."), **errors(400, 404, 409, 422)},
    }


LABEL = obj(
    {
        "Name": {"type": "string"},
        "ParentName": {"type": "string"},
        "Confidence": {"type": "number", "minimum": 0, "maximum": 100},
        "TaxonomyLevel": {"type": "integer"},
    },
    ["Name", "Confidence"],
)

IMAGE = obj(
    {
        "image_id": UUID,
        "kind": {"type": "string", "enum": [kind.value for kind in ImageKind]},
        "key": {"type": "string"},
        "url": {"type": "string", "description": "Short-lived; the link alone lets anyone load it."},
        "content_type": {"type": "string"},
        "width": {"type": ["integer", "null"]},
        "height": {"type": ["integer", "null"]},
        "bytes": {"type": "integer"},
    }
)

MATCH = {
    **obj(
        {
            "bank_id": UUID,
            "bank": {"type": "string"},
            "action": {"type": "string", "enum": [action.value for action in BankAction]},
            "entry_id": UUID,
            "distance": {"type": "integer", "minimum": 0, "maximum": 256},
            "origin_image_id": {"type": ["string", "null"], "format": "uuid"},
            "frame": {
                "type": "integer",
                "minimum": 1,
                "description": "Only when an animation frame after the first matched: its index in the file "
                "(the first frame is 0).",
            },
        },
        [],
    ),
    "type": ["object", "null"],
    "description": "Moderators and admins: the bank entry that decided it (source `hash_match`).",
}

MODERATION = {
    **obj(
        {
            "virtual_image_id": UUID,
            "status": {"type": "string", "enum": [status.value for status in ModerationStatus]},
            "is_nsfw": {"type": ["boolean", "null"]},
            "labels": {
                "type": "array",
                "items": ref("Label"),
                "description": "Moderators and admins see every label and score. The uploader sees the "
                "labels that decided the verdict: none for an approved image, and for a flagged or rejected "
                "one those at or above a threshold of the policy in force. A bank match's label names the "
                "bank for moderators and admins; its uploader reads `Matched a known image`.",
            },
            "frame": {
                "type": ["integer", "null"],
                "minimum": 0,
                "description": "The animation frame whose labels these are (the first frame is 0), when the "
                "provider looked at the sampled frames one by one and the worst decided; null for a still "
                "photo, an animation Rekognition saw as one contact sheet, or when no label is shown.",
            },
            "second_opinion": {
                "type": ["object", "null"],
                "properties": {
                    "escalated_to": {"type": "string", "enum": ["rekognition", "external"]},
                    "band": {
                        "type": ["object", "null"],
                        "additionalProperties": {"type": "array", "items": {"type": "number"}},
                    },
                    "first": {
                        "type": ["object", "null"],
                        "properties": {
                            "source": NULLABLE_STRING,
                            "model_version": NULLABLE_STRING,
                            "labels": {"type": "array", "items": ref("Label")},
                            "verdict": {"type": "string", "enum": [s.value for s in ModerationStatus]},
                        },
                    },
                },
                "description": "When the first provider's answer fell in the uncertainty band "
                "(MODERATION_ESCALATE_BAND), the second provider that decided (`source` and `labels` are "
                "its answer). Moderators and admins also see the band and the first answer: its labels and "
                "the verdict it would have had; the uploader sees null for both. Null for an image decided "
                "by one provider.",
            },
            "model_version": NULLABLE_STRING,
            "source": NULLABLE_STRING,
            "sha256": {"type": "string", "description": "SHA-256 of the uploaded bytes."},
            "pdq_hash": {
                "type": ["string", "null"],
                "description": "PDQ perceptual hash (64 hex digits) of the processed pixels, once processed.",
            },
            "pdq_quality": {"type": ["integer", "null"], "minimum": 0, "maximum": 100},
            "match": MATCH,
            "duplicate_of": {
                "type": ["string", "null"],
                "format": "uuid",
                "description": "The earlier image of the same owner with the same bytes whose verdict "
                "it reuses (source `duplicate_of`).",
            },
            "reviews": {
                "type": "array",
                "items": ref("Review"),
                "description": "Every decision a person made on it, oldest first.",
            },
            "appeal": {**ref("Appeal"), "description": "Null until its uploader appeals."},
        },
        ["virtual_image_id", "status", "is_nsfw", "labels", "model_version", "source", "reviews", "appeal"],
    ),
    "type": ["object", "null"],
}

PHOTO = obj(
    {
        "session_id": UUID,
        "status": {"type": "string", "enum": [status.value for status in SessionStatus]},
        "original_image_id": {"type": ["string", "null"], "format": "uuid"},
        "processed_image_id": {"type": ["string", "null"], "format": "uuid"},
        "error": NULLABLE_STRING,
        "created_at": TIME,
        "completed_at": TIME,
        "images": {"type": "array", "items": ref("Image")},
        "moderation": ref("Moderation"),
    }
)

APPEAL = {
    **obj(
        {
            "status": {
                "type": "string",
                "enum": ["pending", *(outcome.value for outcome in AppealOutcome)],
                "description": "`upheld`: the verdict stands; `overturned`: the photo was approved.",
            },
            "message": {"type": "string", "description": "What the uploader wrote."},
            "created_at": TIME,
            "decided_at": TIME,
            "reply": {
                "type": ["string", "null"],
                "description": "What the moderator who decided wrote for the uploader.",
            },
            "decided_by": {
                "type": ["string", "null"],
                "description": "Moderators and admins only: who decided (an email). Never sent to the "
                "uploader.",
            },
        },
        ["status", "message", "created_at", "decided_at", "reply"],
    ),
    "type": ["object", "null"],
}

SCHEMAS = {"Label": LABEL, "Image": IMAGE, "Moderation": MODERATION, "Photo": PHOTO, "Appeal": APPEAL}
