"""The API's contract: its OpenAPI document, and a page that reads it to people."""

from flask import Blueprint, jsonify, render_template, request

from webapp.views.api_reference import markdown, markdown_inline, operations
from webapp.views.openapi import document

blueprint = Blueprint("docs", __name__)
blueprint.add_app_template_filter(markdown, "markdown")
blueprint.add_app_template_filter(markdown_inline, "markdown_inline")


@blueprint.get("/api/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of the JSON API."""
    return jsonify(document())


@blueprint.get("/docs/api")
def api_page():
    """The same document, as a page: a table of contents, then every operation with its parameters,
    body, answers and an example request."""
    base_url = request.url_root.rstrip("/")  # the examples call the address the reader came to
    api = document()
    return render_template(
        "pages/api_docs.html", api=api, operations=operations(api, base_url), base_url=base_url
    )
