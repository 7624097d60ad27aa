"""Deciding between a whole page and the fragment htmx asked for."""

from flask import make_response, render_template, request
from werkzeug.wrappers import Response


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def render_page_or_fragment(page_template: str, fragment_template: str, **context) -> Response:
    """The fragment for an htmx request, the whole page otherwise; caches keep the two apart."""
    response = make_response(render_template(fragment_template if is_htmx() else page_template, **context))
    response.vary.add("HX-Request")
    return response
