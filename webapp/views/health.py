"""Operations (see README.md): is the process up, do its backing services answer, and its Prometheus metrics.

None of these needs a login: probes and scrapers do not log in. They are GETs, so CSRF never applies.
/metrics names banks and counts work, so a deployment that exposes it sets METRICS_TOKEN, and then
only a scraper sending `Authorization: Bearer <METRICS_TOKEN>` reads it.
"""

import hmac

from flask import Blueprint, Response, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from webapp.errors import ServiceUnavailable
from webapp.metrics import metrics_registry
from webapp.services.operations import readiness

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz():
    """The process is up and answering."""
    return jsonify(status="ok")


@blueprint.get("/readyz")
def readyz():
    """200 when the database, Redis and storage answer; else 503 naming each that does not."""
    checks = readiness.check_backends()
    if all(answer == "ok" for answer in checks.values()):
        return jsonify(status="ready", checks=checks)
    response = jsonify(status="unavailable", checks=checks)
    return response, ServiceUnavailable.status, {"Retry-After": str(ServiceUnavailable.retry_after)}


@blueprint.get("/metrics")
def metrics():
    """Prometheus text format, counted at scrape time from PostgreSQL and Redis; with METRICS_TOKEN
    set, 401 for a request without that bearer token."""
    if not _scraper_allowed(current_app.config["METRICS_TOKEN"]):
        return Response(
            "Send the metrics token as 'Authorization: Bearer <token>'.\n",
            401,
            {"WWW-Authenticate": 'Bearer realm="metrics"'},
            content_type="text/plain; charset=utf-8",
        )
    return Response(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_PLAIN_0_0_4)


def _scraper_allowed(token: str) -> bool:
    """True when no token is set, or the request's bearer token is it (compared in constant time)."""
    if not token:
        return True
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), token.encode())
