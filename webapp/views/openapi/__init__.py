"""The HTTP API as an OpenAPI 3.1 document: the contract clients depend on, served at /api/openapi.json.

One module per blueprint writes its operations (a function per view, named as the view) and the
shapes its answers carry. A test compares the operations with the app's routes, and Schemathesis
fuzzes every operation against the document and checks each answer against it (no field the
document does not name), so the document cannot drift from what the server does.
"""

from functools import cache

from webapp.views.openapi import (
    account,
    audit,
    banks,
    docs,
    jobs,
    photos,
    review_work,
    reviews,
    uploads,
    webhooks,
)
from webapp.views.openapi.shapes import ERROR

# In the order the API page reads them.
AREAS = (photos, uploads, jobs, banks, account, reviews, review_work, audit, webhooks, docs)
SCHEMAS = (
    {"Error": ERROR}
    | photos.SCHEMAS
    | uploads.SCHEMAS
    | jobs.SCHEMAS
    | account.SCHEMAS
    | banks.SCHEMAS
    | reviews.SCHEMAS
    | review_work.SCHEMAS
    | audit.SCHEMAS
)


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
                "and changes only their own photos and jobs; a moderator also reads and reviews everyone's "
                "photos and reads and adds to hash banks; an admin sees and manages all."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": {path: item for area in AREAS for path, item in area.paths().items()},
        "components": {"schemas": SCHEMAS, "securitySchemes": SECURITY_SCHEMES},
    }


SECURITY_SCHEMES = {
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
}
