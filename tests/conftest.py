"""Fixtures: real PostgreSQL, Redis, moto's S3 server, RQ worker processes and a gunicorn server."""

import os
import subprocess
import time
import uuid
from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber
from flask_migrate import upgrade
from sqlalchemy import text

from tests.support.environment import (
    BUCKET,
    NOTIFICATION_SECRET,
    REQUEST_SECRET,
    ROTATED_WEBHOOK_SECRET,
    RUN_ID,
    WEBHOOK_SECRET,
)
from tests.support.factories import Person, make_user
from tests.support.processes import serve_web, start_worker, stop
from tests.support.standin import StandIn
from webapp import create_app
from webapp.extensions import db
from webapp.models import Role
from webapp.providers import registry
from webapp.queue import photo_queue, redis_connection
from webapp.storage import get_storage
from webapp.testing import servers


@pytest.fixture(scope="session")
def service_env(tmp_path_factory) -> Iterator[dict[str, str]]:
    """The environment every process of the suite (this one, workers, web servers) runs with."""
    with (
        servers.postgres_server() as postgres,
        servers.database(postgres, f"photogate_test_{RUN_ID}") as database_url,
        servers.redis_server() as redis_server_url,
        servers.redis_database(redis_server_url, RUN_ID) as redis_url,
        servers.moto_server() as s3_endpoint,
    ):
        env = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "QUEUE_NAME": f"photos-{RUN_ID}",
            "S3_BUCKET": BUCKET,
            "S3_ENDPOINT_URL": s3_endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "SECRET_KEY": f"test-secret-{RUN_ID}",
            "PHOTOGATE_INSTANCE_PATH": str(tmp_path_factory.mktemp("instance")),
            "JOB_RETRY_INTERVALS": "1,1",
            "MODERATION_WEBHOOK_SECRET": f"{WEBHOOK_SECRET} {ROTATED_WEBHOOK_SECRET}",
            "EXTERNAL_MODERATION_SECRET": REQUEST_SECRET,
            "EXTERNAL_RETRY_INTERVALS": "1,1",
            "NOTIFICATION_SECRET": NOTIFICATION_SECRET,
            "NOTIFICATION_RETRY_INTERVALS": "1,1",
            # The suite's stand-ins for vendors and receivers listen on loopback.
            "ALLOW_PRIVATE_CALLBACKS": "true",
        }
        previous = {name: os.environ.get(name) for name in env}
        os.environ.update(env)
        boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=BUCKET)
        yield env
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="session")
def app(service_env):
    app = create_app({"TESTING": True})
    with app.app_context():
        upgrade()
    return app


@pytest.fixture(autouse=True)
def clean_state(request):
    """Each test starts with empty tables and an empty queue."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        _wait_for_idle_workers()
        tables = ", ".join(table.name for table in db.metadata.sorted_tables)
        db.session.execute(text(f"TRUNCATE {tables} CASCADE"))
        db.session.commit()
        redis_connection().flushdb()
        get_storage().delete_prefix("")
    yield


def _wait_for_idle_workers(timeout: float = 15) -> None:
    """Let jobs a previous test left running finish, so they do not write into the next test's tables."""
    queue = photo_queue()
    deadline = time.monotonic() + timeout
    while (queue.count or queue.started_job_registry.count) and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def s3(service_env):
    return boto3.client("s3", endpoint_url=service_env["S3_ENDPOINT_URL"])


@pytest.fixture
def bucket_keys(s3):
    """The keys now in the test bucket under a prefix."""

    def keys(prefix: str = "") -> list[str]:
        listing = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        return sorted(item["Key"] for item in listing.get("Contents", []))

    return keys


@pytest.fixture
def user(app) -> Person:
    return make_user(app, "owner@example.com")


@pytest.fixture
def other_user(app) -> Person:
    return make_user(app, "someone-else@example.com")


@pytest.fixture
def moderator(app) -> Person:
    return make_user(app, "moderator@example.com", role=Role.MODERATOR)


@pytest.fixture
def admin(app) -> Person:
    return make_user(app, "admin@example.com", role=Role.ADMIN)


@pytest.fixture
def parked(app, monkeypatch):
    """No worker listens: the test runs each job itself, in this process."""
    monkeypatch.setitem(app.config, "QUEUE_NAME", f"parked-{uuid.uuid4().hex[:6]}")


@pytest.fixture
def rekognition(app):
    """Rekognition answers only what the test queues (botocore's Stubber): any other call fails."""
    with app.app_context():
        client = registry.rekognition_client()
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def token(user) -> str:
    return user.token


@pytest.fixture
def auth_headers(token) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def worker(service_env) -> Iterator[subprocess.Popen]:
    """One RQ worker process for the session, processing real jobs."""
    process = start_worker(service_env)
    yield process
    stop(process)


# Here rather than in e2e/conftest.py: the external-provider tests need it too, for the vendor's callbacks.
@pytest.fixture(scope="session")
def live_server(service_env, app) -> Iterator[str]:
    """photogate served by gunicorn on a free port, with the suite's services; the bucket lets its pages
    send files straight to it, as `flask storage cors` sets it for a deployment."""
    with serve_web(service_env) as base:
        cors = app.test_cli_runner().invoke(args=["storage", "cors", base])
        assert cors.exit_code == 0, cors.output
        yield base


@pytest.fixture
def vendor(app, service_env, live_server, monkeypatch):
    """The stand-in service, and a worker configured to send to it, on a queue of their own."""
    queue = f"{service_env['QUEUE_NAME']}-external-{uuid.uuid4().hex[:4]}"
    with StandIn(verifying_secret=REQUEST_SECRET) as stand_in:
        settings = {
            "QUEUE_NAME": queue,
            "EXTERNAL_MODERATION_URL": stand_in.url,
            "EXTERNAL_MODERATION_DEADLINE": "4",
            "PUBLIC_BASE_URL": live_server,
        }
        for name, value in settings.items():
            monkeypatch.setitem(app.config, name, int(value) if value.isdigit() else value)
        process = start_worker(service_env, settings)
        yield stand_in
        stop(process)
