"""Blueprints, and the one place that turns errors into JSON for the API or a page for people."""

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from webapp import rate_limits
from webapp.errors import AppError, ServiceUnavailable
from webapp.rate_limits import TooManyRequests
from webapp.services.accounts import review_settings
from webapp.services.moderation import moderation_details
from webapp.services.photos.photos import iso
from webapp.storage import StorageUnavailable
from webapp.views import links


def register_blueprints(app: Flask) -> None:
    """Every blueprint, in the order their routes are matched; the error handlers; template globals."""
    from webapp.views import (
        account,
        admin,
        admin_users,
        api,
        audit,
        audit_api,
        auth,
        banks,
        banks_api,
        bulk_api,
        docs,
        first_run,
        health,
        jobs,
        media,
        pages,
        review,
        review_api,
        reviews_api,
        uploads_api,
        webhooks,
    )

    for module in (
        first_run,
        auth,
        account,
        pages,
        jobs,
        review,
        admin,
        admin_users,
        audit,
        banks,
        api,
        bulk_api,
        uploads_api,
        reviews_api,
        review_api,
        audit_api,
        banks_api,
        webhooks,
        media,
        health,
        docs,
    ):
        app.register_blueprint(module.blueprint)
    _register_error_handlers(app)
    app.jinja_env.globals.update(
        image_cover=review_settings.cover,
        image_url=links.image_url,
        iso=iso,
        labels_for=moderation_details.labels_for,
        labels_frame=moderation_details.labels_frame,
        may_see_moderation_details=moderation_details.may_see_moderation_details,
        second_opinion_for=moderation_details.second_opinion_for,
    )


def _register_error_handlers(app: Flask) -> None:
    """Errors become the API's error shape or an error page; a backing service down is a 503."""
    app.register_error_handler(AppError, _app_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(RateLimitExceeded, _rate_limited)
    app.register_error_handler(HTTPException, _http_error)
    for outage in (OperationalError, RedisError, StorageUnavailable):
        app.register_error_handler(outage, _backend_down)


def error_response(
    code: str, message: str, status: int, retry_after: int | None = None, details: dict | None = None
) -> Response:
    """/api/openapi.json's error shape for /api/ requests (with any details beside code and
    message); a small error page for everyone else."""
    if request.path.startswith("/api/"):
        response = jsonify(error={"code": code, "message": message} | (details or {}))
    else:
        response = Response(render_template("pages/error.html", code=code, message=message))
    response.status_code = status
    if status == ServiceUnavailable.status:
        retry_after = ServiceUnavailable.retry_after
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _app_error(error: AppError) -> Response:
    return error_response(
        error.code,
        error.message,
        error.status,
        getattr(error, "retry_after", None),
        getattr(error, "details", None),
    )


def _rate_limited(_error: RateLimitExceeded) -> Response:
    wait = rate_limits.retry_after()
    return error_response(TooManyRequests.code, TooManyRequests(wait).message, TooManyRequests.status, wait)


def _csrf_error(error: CSRFError) -> Response:
    return error_response("csrf_failed", f"{error.description} Reload the page and try again.", 400)


def _backend_down(error: Exception) -> Response:
    """PostgreSQL, Redis or storage did not answer: 503 with Retry-After, never a 500."""
    current_app.logger.warning("backing service down: %s", error)
    return error_response(ServiceUnavailable.code, ServiceUnavailable.message, ServiceUnavailable.status)


def _http_error(error: HTTPException) -> Response:
    code = (error.name or "error").lower().replace(" ", "_")
    return error_response(code, error.description or error.name, error.code or 500)
