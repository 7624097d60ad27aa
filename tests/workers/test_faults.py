"""Fault injection on real processes: whatever breaks mid-batch, nothing accepted is lost or made twice.

The module runs its own stack: a private PostgreSQL it can stop and start, its own Redis database
it can flush, moto behind a proxy it can cut, real workers it can SIGKILL, and the cron process
running the reconciler every 2 seconds. Each test then checks the same promises: every accepted
photo ends terminal, no object or row exists twice, nothing accepted is missing, and an upload
refused during the outage got a 503 with Retry-After and left nothing behind.
"""

import io
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass

import boto3
import pytest
from flask_migrate import upgrade
from PIL import Image
from sqlalchemy import func, select, text

from tests.support.factories import Person, make_user, wait_for
from tests.support.faults import CuttableProxy, kill_tree
from tests.support.processes import ROOT, stop
from webapp import create_app
from webapp.extensions import db
from webapp.models import BulkJob, BulkJobImage, PhotoSession, S3Image, VirtualImage
from webapp.queue import redis_connection
from webapp.testing import servers

pytestmark = pytest.mark.faults
BUCKET = "photogate-faults"
BATCH = 50


@dataclass
class Stack:
    app: object
    env: dict
    postgres: servers.PrivatePostgres
    s3_proxy: CuttableProxy
    s3: object
    owner: Person | None = None

    def worker(self) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "workers"],
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with (
        servers.private_postgres() as postgres,
        servers.database(postgres.url, "photogate_faults") as database_url,
        servers.redis_server() as redis_server_url,
        servers.redis_database(redis_server_url, f"faults-{uuid.uuid4().hex}") as redis_url,
        servers.moto_server() as s3_endpoint,
        pytest.MonkeyPatch.context() as patch,
    ):
        proxy = CuttableProxy(int(s3_endpoint.rsplit(":", 1)[1]))
        env = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "QUEUE_NAME": f"faults-{uuid.uuid4().hex[:6]}",
            "S3_BUCKET": BUCKET,
            "S3_ENDPOINT_URL": f"http://127.0.0.1:{proxy.port}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "SECRET_KEY": "faults",
            "PHOTOGATE_INSTANCE_PATH": str(tmp_path_factory.mktemp("faults")),
            "JOB_RETRY_INTERVALS": "2,4,8,16",
            "RECONCILE_EVERY": "2",
            "RECONCILE_AFTER": "6",
            "WORKER_TTL": "10",
            "JOB_MONITORING_INTERVAL": "2",
            "MAINTENANCE_INTERVAL": "5",
        }
        for name, value in env.items():
            patch.setenv(name, value)
        s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        app = create_app({"TESTING": True})
        with app.app_context():
            upgrade()
        cron = subprocess.Popen(
            [sys.executable, "-m", "workers.cron"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        yield Stack(app, env, postgres, proxy, s3)
        stop(cron)


@pytest.fixture
def faults(stack) -> Stack:
    """The stack, emptied, with one user; the proxy open and PostgreSQL up."""
    stack.s3_proxy.restore()
    with stack.app.app_context():
        tables = ", ".join(table.name for table in db.metadata.sorted_tables)
        db.session.execute(text(f"TRUNCATE {tables} CASCADE"))
        db.session.commit()
        redis_connection().flushdb()
    for item in stack.s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        stack.s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    stack.owner = make_user(stack.app, f"{uuid.uuid4().hex[:6]}@example.com")
    return stack


def photo(n: int) -> bytes:
    """A 1600x1200 JPEG, big enough that a batch of 50 takes a few seconds to process."""
    buffer = io.BytesIO()
    Image.effect_noise((1600, 1200), 40 + n % 20).convert("RGB").save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def upload_batch(stack: Stack, count: int = BATCH):
    form = {"files": [(io.BytesIO(photo(n)), f"{n}.jpg") for n in range(count)]}
    return stack.app.test_client().post(
        "/api/bulk-nsfw/upload", headers=stack.owner.headers, data=form, content_type="multipart/form-data"
    )


def job(stack: Stack, job_id: str) -> BulkJob:
    with stack.app.app_context():
        found = db.session.get(BulkJob, uuid.UUID(job_id))
        db.session.expunge(found)
        return found


def wait_for_processed(stack: Stack, job_id: str, count: int) -> None:
    wait_for(lambda: job(stack, job_id).processed >= count, 60)


def assert_nothing_lost(stack: Stack, job_id: str, accepted: int, timeout: float = 180) -> None:
    """Every accepted photo terminal and moderated, exactly its four objects and rows, counters right."""
    ended = wait_for(
        lambda: (found := job(stack, job_id)).status.is_terminal and found, timeout, interval=0.5
    )
    with stack.app.app_context():
        sessions = db.session.scalars(
            select(PhotoSession)
            .join(VirtualImage, VirtualImage.session_id == PhotoSession.session_id)
            .join(BulkJobImage, BulkJobImage.virtual_image_id == VirtualImage.id)
            .where(BulkJobImage.job_id == uuid.UUID(job_id))
        ).all()
        statuses = db.session.execute(
            select(VirtualImage.moderation_status, func.count()).group_by(VirtualImage.moderation_status)
        ).all()
        rows = db.session.scalar(select(func.count()).select_from(S3Image))
        all_sessions = db.session.scalar(select(func.count()).select_from(PhotoSession))
    keys = [
        item["Key"]
        for page in stack.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
        for item in page.get("Contents", [])
    ]
    assert len(sessions) == accepted == all_sessions
    assert {session.status.value for session in sessions} == {"completed"}
    assert dict(statuses) == {"approved": accepted}
    assert rows == 4 * accepted
    expected = {
        f"{s.session_id}/{name}"
        for s in sessions
        for name in ("original.jpg", "thumbnail_original.jpg", "processed.avif", "thumbnail_processed.jpg")
    }
    assert sorted(keys) == sorted(expected)
    assert (ended.status.value, ended.total, ended.approved, ended.pending) == (
        "completed",
        accepted,
        accepted,
        0,
    )
    assert ended.processed == accepted


def test_a_worker_killed_with_sigkill_mid_batch_loses_nothing(faults):
    worker = faults.worker()
    job_id = upload_batch(faults).get_json()["job_id"]
    wait_for_processed(faults, job_id, 8)
    victims = kill_tree(worker.pid)
    worker.wait()
    assert len(victims) >= 2  # the parent and at least its work horse or scheduler
    assert job(faults, job_id).processed < BATCH
    replacement = faults.worker()
    try:
        assert_nothing_lost(faults, job_id, BATCH)
    finally:
        stop(replacement)


def test_redis_flushed_mid_batch_loses_nothing(faults):
    worker = faults.worker()
    try:
        job_id = upload_batch(faults).get_json()["job_id"]
        wait_for_processed(faults, job_id, 8)
        with faults.app.app_context():
            redis_connection().flushdb()
        assert job(faults, job_id).processed < BATCH
        assert_nothing_lost(faults, job_id, BATCH)
    finally:
        stop(worker)


def test_storage_cut_off_during_uploads_refuses_them_with_503_and_keeps_nothing(faults):
    faults.s3_proxy.cut()
    client = faults.app.test_client()

    single = client.post(
        "/api/photos/upload",
        headers=faults.owner.headers,
        data={"file": (io.BytesIO(photo(1)), "a.jpg")},
        content_type="multipart/form-data",
    )
    batch = upload_batch(faults, 3)

    faults.s3_proxy.restore()
    for response in (single, batch):
        assert response.status_code == 503
        assert int(response.headers["Retry-After"]) > 0
        assert response.get_json()["error"]["code"] == "service_unavailable"
    with faults.app.app_context():
        for table in (PhotoSession, VirtualImage, BulkJob):
            assert db.session.scalar(select(func.count()).select_from(table)) == 0
    assert faults.s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def test_storage_cut_off_during_processing_loses_nothing(faults):
    worker = faults.worker()
    try:
        job_id = upload_batch(faults, 20).get_json()["job_id"]
        faults.s3_proxy.cut()
        time.sleep(6)  # the worker meets the outage, and RQ retries its jobs with backoff meanwhile
        faults.s3_proxy.restore()
        assert_nothing_lost(faults, job_id, 20)
    finally:
        stop(worker)


def test_postgresql_restarted_mid_batch_loses_nothing_and_refuses_uploads_meanwhile(faults):
    worker = faults.worker()
    try:
        job_id = upload_batch(faults, 30).get_json()["job_id"]
        wait_for_processed(faults, job_id, 5)
        faults.postgres.stop()
        refused = faults.app.test_client().post(
            "/api/photos/upload",
            headers=faults.owner.headers,
            data={"file": (io.BytesIO(photo(2)), "late.jpg")},
            content_type="multipart/form-data",
        )
        faults.postgres.start()
        assert refused.status_code == 503
        assert int(refused.headers["Retry-After"]) > 0
        assert_nothing_lost(faults, job_id, 30)
    finally:
        stop(worker)
