"""The contract itself (blueprint `docs`): this document."""


def paths() -> dict:
    """The document's own operation, by path."""
    return {
        "/api/openapi.json": {
            "get": {
                "summary": "This document",
                "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1.", "content": {"application/json": {}}}},
            }
        }
    }
