"""Operations (API.md): is the process up, do its backing services answer, and its Prometheus metrics.

None of these needs a login: probes and scrapers do not log in. They are GETs, so CSRF never applies.
"""

from flask import Blueprint, Response, jsonify
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from webapp.errors import ServiceUnavailable
from webapp.metrics import metrics_registry
from webapp.services import readiness

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
    """Prometheus text format, counted at scrape time from PostgreSQL and Redis."""
    return Response(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_PLAIN_0_0_4)
