"""The HTTP API as an OpenAPI 3.1 document: the contract clients depend on, served at /api/openapi.json.

A test compares its operations with the app's routes, and Schemathesis fuzzes every operation
against it, so the document cannot drift from what the server does.
"""

from functools import cache

from webapp.models.users import TOKEN_NAME_LENGTH
from webapp.services.users import MAX_TOKENS_PER_USER
from webapp.views.openapi.operations import bank_paths, job_paths, photo_paths
from webapp.views.openapi.shapes import (
    CALLBACK_URL,
    NULLABLE_STRING,
    SCHEMAS,
    TIME,
    UUID,
    errors,
    json_answer,
    json_body,
    obj,
    path_id,
    ref,
)
from webapp.views.params import MAX_NAME_LENGTH, MAX_NOTE_LENGTH

SIGNING_SECRET = json_answer(
    obj(
        {
            "secret": {
                "type": "string",
                "pattern": "^whsec_",
                "description": "Signs your job.completed events (Standard Webhooks); yours alone.",
            },
            "previous_secret_valid_until": {
                **TIME,
                "description": "Until when your previous secret signs your events too (null: it does not).",
            },
        }
    ),
    "Your signing secret.",
)


def _paths() -> dict:
    """Every operation, by path."""
    return photo_paths() | job_paths() | bank_paths() | _other_paths()


def _other_paths() -> dict:
    """The account, reviews, the vendor webhook and this document."""
    return {
        "/api/account": {
            "put": {
                "summary": "Set your default callback URL for job notifications (null clears it)",
                "requestBody": json_body(
                    {
                        "type": "object",
                        "properties": {"default_callback_url": {**CALLBACK_URL, "type": ["string", "null"]}},
                        "required": ["default_callback_url"],
                    }
                ),
                "responses": {
                    "200": json_answer(
                        obj({"email": {"type": "string"}, "default_callback_url": NULLABLE_STRING}),
                        "Saved.",
                    ),
                    **errors(400, 422),
                },
            }
        },
        "/api/account/signing-secret": {
            "get": {
                "summary": "The secret that signs your job notifications",
                "responses": {"200": SIGNING_SECRET, **errors()},
            }
        },
        "/api/account/signing-secret/rotate": {
            "post": {
                "summary": (
                    "Make a new signing secret; for the grace period (NOTIFICATION_SECRET_GRACE) events "
                    "carry a signature with the previous one too"
                ),
                "responses": {"200": SIGNING_SECRET, **errors()},
            }
        },
        "/api/tokens": {
            "get": {
                "summary": "Your API tokens, oldest first (never their secrets)",
                "responses": {
                    "200": json_answer(
                        obj({"tokens": {"type": "array", "items": ref("ApiToken")}}), "Your tokens."
                    ),
                    **errors(),
                },
            },
            "post": {
                "summary": "Make an API token; the answer is the one time its secret is shown",
                "description": f"At most {MAX_TOKENS_PER_USER} tokens an account (409 `too_many_tokens`).",
                "requestBody": json_body(
                    obj(
                        {
                            "name": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": TOKEN_NAME_LENGTH,
                                "examples": ["nightly import"],
                            }
                        }
                    )
                ),
                "responses": {
                    "201": json_answer(
                        {
                            "allOf": [
                                ref("ApiToken"),
                                obj(
                                    {
                                        "token": {
                                            "type": "string",
                                            "pattern": "^pgt_",
                                            "description": "The secret.",
                                        }
                                    }
                                ),
                            ]
                        },
                        "Made; sent with `Cache-Control: no-store`.",
                    ),
                    **errors(400, 409, 422),
                },
            },
        },
        "/api/tokens/{token_id}": {
            "parameters": [path_id("token_id")],
            "delete": {
                "summary": "Delete one of your API tokens (the one the request carries too)",
                "responses": {
                    "204": {"description": "Deleted: the token is refused from now on."},
                    **errors(404),
                },
            },
        },
        "/api/virtual-images/{virtual_image_id}/review": {
            "parameters": [path_id("virtual_image_id")],
            "post": {
                "summary": "Approve or reject an image by hand (admins)",
                "requestBody": json_body(
                    {
                        "type": "object",
                        "properties": {
                            "verdict": {"type": "string", "enum": ["approved", "rejected"]},
                            "note": {
                                "type": ["string", "null"],
                                "maxLength": MAX_NOTE_LENGTH,
                                "description": "Internal: shown to admins, never to the uploader.",
                            },
                            "message": {
                                "type": ["string", "null"],
                                "maxLength": MAX_NOTE_LENGTH,
                                "description": "For the uploader: shown with the verdict on their "
                                "photo's page and in its moderation.",
                            },
                        },
                        "required": ["verdict"],
                    }
                ),
                "responses": {"200": json_answer(ref("Review"), "Recorded."), **errors(400, 403, 404, 422)},
            },
        },
        "/api/webhooks/moderation": {
            "post": {
                "summary": "A moderation vendor's verdict, signed per Standard Webhooks",
                "security": [],
                "parameters": [
                    {"name": name, "in": "header", "required": True, "schema": {"type": "string"}}
                    for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
                ],
                "requestBody": json_body(
                    {
                        "type": "object",
                        "properties": {
                            "virtual_image_id": UUID,
                            "verdict": {"type": "string", "enum": ["approved", "rejected", "flagged"]},
                            "labels": {"type": "array", "items": ref("Label")},
                            "provider": {"type": "string", "maxLength": MAX_NAME_LENGTH},
                            "model_version": {"type": "string"},
                        },
                        "required": ["virtual_image_id", "verdict"],
                    }
                ),
                "responses": {
                    "200": json_answer(
                        {
                            "type": "object",
                            "properties": {"status": {"type": "string"}, "webhook_id": {"type": "string"}},
                            "required": ["status", "webhook_id"],
                        },
                        "Applied, or already applied.",
                    ),
                    **errors(400, 404, 409, 413, 422),
                },
            }
        },
        "/api/openapi.json": {
            "get": {
                "summary": "This document",
                "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1.", "content": {"application/json": {}}}},
            }
        },
    }


@cache
def document() -> dict:
    """The OpenAPI 3.1 document of the JSON API."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "photogate",
            "version": "1",
            "description": (
                "Photo intake and content moderation. Errors always have the shape "
                '`{"error": {"code", "message"}}`; ids are UUIDs; times are ISO 8601 UTC. A user sees '
                "and changes only their own photos and jobs; an admin sees all."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": _paths(),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token, made on /account or by POST /api/tokens.",
                },
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "session",
                    "description": "The browser's login; unsafe methods then need the CSRF token.",
                },
            },
        },
    }
