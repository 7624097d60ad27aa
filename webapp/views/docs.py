"""The API's contract: its OpenAPI document, and a page that reads it to people."""

from flask import Blueprint, jsonify, render_template

from webapp.views.openapi import document

blueprint = Blueprint("docs", __name__)


@blueprint.get("/api/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of the JSON API."""
    return jsonify(document())


@blueprint.get("/docs/api")
def api_page():
    """The same document, as a page: every operation, its parameters, body and answers."""
    return render_template("pages/api_docs.html", api=document())
