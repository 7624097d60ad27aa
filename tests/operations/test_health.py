"""Operations against the real services: liveness, readiness naming what is down, metrics, log context."""

import logging
import socket
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from tests.support.factories import image_bytes, make_user, upload, wait_for, wait_until_terminal
from tests.support.processes import start_worker, stop
from tests.support.reviews import waiting_photo
from webapp import create_app
from webapp.extensions import db
from webapp.log_context import LOG_FORMAT, ContextFormatter, configure_logging
from webapp.models import Role, VirtualImage
from webapp.services.banks import banks
from webapp.services.operations.readiness import CHECK_TIMEOUT_SECONDS
from webapp.services.photos.processing import process_session
from webapp.testing import servers

Samples = dict[tuple[str, frozenset], float]


def dead_endpoints() -> dict[str, dict[str, str]]:
    """Per backend, the setting that points it at a port where nothing listens."""
    port = servers.free_port()
    return {
        "database": {"SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg2://postgres@127.0.0.1:{port}/photogate"},
        "redis": {"REDIS_URL": f"redis://127.0.0.1:{port}/0"},
        "storage": {"S3_ENDPOINT_URL": f"http://127.0.0.1:{port}"},
    }


def scrape(client) -> Samples:
    """GET /metrics, parsed as Prometheus does: every sample by name and labels."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    families = text_string_to_metric_families(response.get_data(as_text=True))
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in families
        for sample in family.samples
    }


def sample(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def test_healthz_answers_while_the_process_is_up(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_answers_ready_when_every_backend_answers(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ready",
        "checks": {"database": "ok", "redis": "ok", "storage": "ok"},
    }


@pytest.mark.parametrize("backend", ["database", "redis", "storage"])
def test_readyz_answers_503_naming_the_backend_that_is_down(app, backend):
    client = create_app({"TESTING": True, **dead_endpoints()[backend]}).test_client()

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"][backend].startswith("down: ")
    assert {name: answer for name, answer in body["checks"].items() if name != backend} == {
        name: "ok" for name in {"database", "redis", "storage"} - {backend}
    }


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


def test_readyz_does_not_wait_for_a_backend_that_never_answers(app, silent_port):
    client = create_app({"TESTING": True, "REDIS_URL": f"redis://127.0.0.1:{silent_port}/0"}).test_client()

    started = time.monotonic()
    response = client.get("/readyz")

    assert time.monotonic() - started < CHECK_TIMEOUT_SECONDS + 2
    assert response.status_code == 503
    assert response.get_json()["checks"]["redis"] == f"down: no answer within {CHECK_TIMEOUT_SECONDS:g} s"


def test_metrics_follow_a_photo_from_upload_to_verdict(app, client, user, worker):
    before = scrape(client)
    assert sample(before, "photogate_uploads", status="completed") == 0
    assert sample(before, "photogate_backend_up", backend="database") == 1
    assert sample(before, "photogate_backend_up", backend="redis") == 1

    session_id = upload(client, user.headers, image_bytes()).get_json()["session_id"]
    assert wait_until_terminal(app, session_id) == "completed"
    moderation = client.get(f"/api/photos/{session_id}", headers=user.headers).get_json()["moderation"]

    after = scrape(client)
    assert sample(after, "photogate_uploads", status="completed") == 1
    assert sample(after, "photogate_uploads", status="pending") == 0
    verdict = {"moderation_status": moderation["status"], "source": moderation["source"] or "none"}
    assert moderation["status"] != "pending"
    assert sample(after, "photogate_virtual_images", **verdict) == 1
    assert sample(after, "photogate_processing_duration_seconds_count", status="completed") == 1
    assert sample(after, "photogate_processing_duration_seconds_bucket", status="completed", le="+Inf") == 1
    assert sample(after, "photogate_processing_duration_seconds_sum", status="completed") > 0


def test_metrics_show_the_depth_of_a_queue_nobody_works_on(app, client, user, monkeypatch):
    parked = f"parked-{uuid.uuid4().hex[:6]}"
    monkeypatch.setitem(app.config, "QUEUE_NAME", parked)
    for _ in range(3):
        assert upload(client, user.headers, image_bytes()).status_code == 202

    samples = scrape(client)

    assert sample(samples, "photogate_queue_jobs", queue=parked, state="queued") == 3
    assert sample(samples, "photogate_queue_jobs", queue=parked, state="started") == 0
    assert sample(samples, "photogate_queue_workers", queue=parked) == 0
    assert sample(samples, "photogate_uploads", status="pending") == 3


def aged(app, photo, seconds: float, **values) -> None:
    """The photo as if uploaded `seconds` ago, with other columns of its image set to `values`."""
    values["created_at"] = datetime.now(UTC) - timedelta(seconds=seconds)
    with app.app_context():
        db.session.execute(
            update(VirtualImage).where(VirtualImage.id == photo.virtual_image_id).values(values)
        )
        db.session.commit()


def test_metrics_give_the_size_and_age_of_each_review_queue(app, client, user, parked):
    empty = scrape(client)
    moderator = make_user(app, "moderator@example.com", role=Role.MODERATOR)
    held, oldest, newer, escalated = (waiting_photo(app, user, f"{n}.jpg") for n in range(4))
    aged(app, held, 2000, claimed_by_id=moderator.id, claimed_until=datetime.now(UTC) + timedelta(minutes=5))
    aged(app, oldest, 600)
    aged(app, newer, 60)
    aged(app, escalated, 300, escalated_at=datetime.now(UTC))

    samples = scrape(client)

    for queue in ("moderators", "escalated"):
        assert sample(empty, "photogate_review_waiting", queue=queue) == 0
        assert sample(empty, "photogate_review_oldest_seconds", queue=queue) == 0
    assert sample(samples, "photogate_review_waiting", queue="moderators") == 2
    assert 600 <= sample(samples, "photogate_review_oldest_seconds", queue="moderators") < 700
    assert sample(samples, "photogate_review_waiting", queue="escalated") == 1
    assert 300 <= sample(samples, "photogate_review_oldest_seconds", queue="escalated") < 400


def test_metrics_count_the_workers_listening(app, client, service_env, monkeypatch):
    # A worker of its own: the suite's shared one registered in a Redis an earlier test has flushed.
    queue = f"{service_env['QUEUE_NAME']}-counted"
    monkeypatch.setitem(app.config, "QUEUE_NAME", queue)
    process = start_worker(service_env, {"QUEUE_NAME": queue})
    try:
        wait_for(lambda: sample(scrape(client), "photogate_queue_workers", queue=queue) == 1, timeout=60)
        assert sample(scrape(client), "photogate_workers") >= 1
    finally:
        stop(process)


@pytest.mark.parametrize("backend", ["database", "redis"])
def test_metrics_answer_with_backend_up_0_when_a_backend_is_down(app, backend):
    client = create_app({"TESTING": True, **dead_endpoints()[backend]}).test_client()

    samples = scrape(client)

    other = "redis" if backend == "database" else "database"
    assert sample(samples, "photogate_backend_up", backend=backend) == 0
    assert sample(samples, "photogate_backend_up", backend=other) == 1
    names = {name for name, _ in samples}
    assert ("photogate_uploads" in names) is (backend != "database")
    assert ("photogate_workers" in names) is (backend != "redis")


def log_record(message: str, extra: dict[str, str], exc_info=None) -> logging.LogRecord:
    return logging.getLogger("photogate.test").makeRecord(
        "photogate.test", logging.WARNING, __file__, 1, message, (), exc_info, extra=extra
    )


METRICS_TOKEN = "scrape-me-3f9c2a7e"


def test_metrics_need_the_metrics_token_once_one_is_set(app, client, user, monkeypatch):
    with app.app_context():
        banks.create_bank("Partner list", "reject")
    open_to_all = client.get("/metrics")
    monkeypatch.setitem(app.config, "METRICS_TOKEN", METRICS_TOKEN)

    refused = {
        "no header": client.get("/metrics"),
        "wrong token": client.get("/metrics", headers={"Authorization": "Bearer scrape-me"}),
        "an API token": client.get("/metrics", headers=user.headers),
        "another scheme": client.get("/metrics", headers={"Authorization": f"Basic {METRICS_TOKEN}"}),
    }
    # More scrapes than TOKEN_FAILURES_PER_ADDRESS allows failures a minute: none counts as a bad API token.
    scraper = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    scrapes = [client.get("/metrics", headers=scraper) for _ in range(25)]

    assert open_to_all.status_code == 200
    assert 'photogate_hash_matches{bank="Partner list"} 0.0' in open_to_all.get_data(as_text=True)
    for answer in refused.values():
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        assert "Partner list" not in answer.get_data(as_text=True)
    assert [scrape.status_code for scrape in scrapes] == [200] * 25
    assert 'photogate_hash_matches{bank="Partner list"} 0.0' in scrapes[-1].get_data(as_text=True)


def test_a_log_record_with_context_formats_with_it():
    formatter = ContextFormatter(LOG_FORMAT)

    assert formatter.format(log_record("photo failed", {"session_id": "abc"})).endswith(
        " photo failed session_id=abc"
    )
    assert formatter.format(log_record("plain", {})).endswith(" plain")
    assert formatter.format(log_record("late", {"job_id": "j1", "virtual_image_id": "v1"})).endswith(
        " late job_id=j1 virtual_image_id=v1"
    )


def test_the_context_stays_on_the_message_line_above_a_traceback():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = log_record("photo failed", {"session_id": "abc"}, sys.exc_info())

    first, *traceback = ContextFormatter(LOG_FORMAT).format(record).splitlines()

    assert first.endswith(" photo failed session_id=abc")
    assert traceback[-1] == "RuntimeError: boom"


@contextmanager
def bare_root_logger() -> Iterator[None]:
    """The root logger as a fresh process has it, no handlers; pytest's own come back afterwards.

    Entered in the test's body: pytest adds its handlers for the call after the fixtures ran.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    root.handlers.clear()
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def test_configured_logging_prints_the_session_a_service_logs_about(app, capsys):
    session_id = uuid.uuid4()

    with bare_root_logger(), app.app_context():
        configure_logging("INFO")
        process_session(session_id)

    assert f"nothing to do session_id={session_id}" in capsys.readouterr().err
