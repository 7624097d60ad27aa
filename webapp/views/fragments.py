"""Deciding between a whole page and the fragment htmx asked for."""

from flask import make_response, render_template, request
from werkzeug.wrappers import Response


def is_htmx() -> bool:
    # htmx restoring a page it pushed to the history (back, forward) asks as htmx too, for the whole page.
    return request.headers.get("HX-Request") == "true" and "HX-History-Restore-Request" not in request.headers


def render_page_or_fragment(page_template: str, fragment_template: str, **context) -> Response:
    """The fragment for an htmx request, the whole page otherwise; caches keep the two apart."""
    response = make_response(render_template(fragment_template if is_htmx() else page_template, **context))
    response.vary.update(("HX-Request", "HX-History-Restore-Request"))
    return response
