"""The account (blueprint `account`): the default callback URL, the signing secret, API tokens and a
moderator's review settings; and the shape of a token."""

from webapp.models.users import TOKEN_NAME_LENGTH, RevealOn
from webapp.services.accounts.users import MAX_TOKENS_PER_USER
from webapp.views.openapi.shapes import (
    CALLBACK_URL,
    NULLABLE_STRING,
    TIME,
    UUID,
    body_object,
    errors,
    json_answer,
    json_body,
    listing,
    merged,
    obj,
    path_id,
)


def paths() -> dict:
    """The account's operations, by path."""
    return {
        "/api/account": {"put": update_account()},
        "/api/account/signing-secret": {"get": signing_secret()},
        "/api/account/signing-secret/rotate": {"post": rotate_signing_secret()},
        "/api/account/review-settings": {"get": review_settings(), "put": update_review_settings()},
        "/api/tokens": {"get": token_list(), "post": create_token()},
        "/api/tokens/{token_id}": {"parameters": [path_id("token_id")], "delete": delete_token()},
    }


def update_account() -> dict:
    callback_url = {**CALLBACK_URL, "type": ["string", "null"]}
    return {
        "summary": "Set your default callback URL for job notifications (null clears it)",
        "requestBody": json_body(
            body_object({"default_callback_url": callback_url}, ["default_callback_url"])
        ),
        "responses": {
            "200": json_answer(
                obj({"email": {"type": "string"}, "default_callback_url": NULLABLE_STRING}), "Saved."
            ),
            **errors(400, 422),
        },
    }


def signing_secret() -> dict:
    return {
        "summary": "The secret that signs your job notifications",
        "responses": {"200": SIGNING_SECRET, **errors()},
    }


def rotate_signing_secret() -> dict:
    return {
        "summary": (
            "Make a new signing secret; for the grace period (NOTIFICATION_SECRET_GRACE) events "
            "carry a signature with the previous one too"
        ),
        "responses": {"200": SIGNING_SECRET, **errors()},
    }


def review_settings() -> dict:
    return {
        "summary": "Your review settings: how images of others' photos are shown to you as you moderate",
        "description": REVIEW_SETTINGS_APPLY,
        "responses": {"200": json_answer(REVIEW_SETTINGS, "Your settings."), **errors(403)},
    }


def update_review_settings() -> dict:
    fields = {name: _or_null(schema) for name, schema in REVIEW_FIELDS.items()}
    return {
        "summary": "Change your review settings: the fields given (absent or null: kept)",
        "description": f"{REVIEW_SETTINGS_APPLY} A field besides these is refused (422).",
        "requestBody": json_body(body_object(fields) | {"additionalProperties": False}),
        "responses": {
            "200": json_answer(REVIEW_SETTINGS, "Saved: all your settings."),
            **errors(400, 403, 422),
        },
    }


def _or_null(schema: dict) -> dict:
    nullable = {**schema, "type": [schema["type"], "null"]}
    return nullable | {"enum": [*schema["enum"], None]} if "enum" in schema else nullable


def token_list() -> dict:
    return listing(
        "Your API tokens, oldest first (never their secrets)", "tokens", "ApiToken", "Your tokens."
    )


def create_token() -> dict:
    name = {"type": "string", "minLength": 1, "maxLength": TOKEN_NAME_LENGTH, "examples": ["nightly import"]}
    made = merged(
        API_TOKEN, obj({"token": {"type": "string", "pattern": "^pgt_", "description": "The secret."}})
    )
    return {
        "summary": "Make an API token; the answer is the one time its secret is shown",
        "description": f"At most {MAX_TOKENS_PER_USER} tokens an account (409 `too_many_tokens`).",
        "requestBody": json_body(body_object({"name": name}, ["name"])),
        "responses": {
            "201": json_answer(made, "Made; sent with `Cache-Control: no-store`."),
            **errors(400, 409, 422),
        },
    }


def delete_token() -> dict:
    return {
        "summary": "Delete one of your API tokens (the one the request carries too)",
        "responses": {"204": {"description": "Deleted: the token is refused from now on."}, **errors(404)},
    }


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

REVIEW_SETTINGS_APPLY = (
    "For moderators and admins (403 for anyone else). They apply on the review queue, photo pages and bank "
    "pages, never to your own photos."
)
REVIEW_FIELDS = {
    "blur": {"type": "boolean", "description": "Images are blurred until revealed (default true)."},
    "greyscale": {
        "type": "boolean",
        "description": "Flagged and rejected images are in greyscale, revealed ones too (default true).",
    },
    "reveal": {
        "type": "string",
        "enum": [choice.value for choice in RevealOn],
        "description": "How a blurred image is revealed: `click` (default), or `hover` (pointer or focus).",
    },
}
REVIEW_SETTINGS = obj(REVIEW_FIELDS)

API_TOKEN = obj(
    {
        "id": UUID,
        "name": {"type": "string"},
        "created_at": TIME,
        "last_used_at": {**TIME, "description": "Null: never used (noted at most once a minute)."},
    }
)

SCHEMAS = {"ApiToken": API_TOKEN}
