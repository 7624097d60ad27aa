"""What the benchmarks share: a private PostgreSQL database, an app on it, seeded jobs, timing."""

import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import insert

from webapp import create_app
from webapp.extensions import db
from webapp.models import (
    BulkJob,
    BulkJobImage,
    ImageKind,
    JobStatus,
    PhotoSession,
    S3Image,
    SessionStatus,
    User,
    VirtualImage,
)
from webapp.models.types import utcnow
from webapp.testing import servers


@contextmanager
def bench_app(tmp: Path) -> Iterator:
    """An app on a fresh PostgreSQL database and a Redis database of its own (on what answers on
    127.0.0.1, else private servers)."""
    from flask_migrate import upgrade

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    name = f"photogate_bench_{uuid.uuid4().hex[:8]}"
    with (
        servers.postgres_server() as server,
        servers.database(server, name) as url,
        servers.redis_server() as redis_server,
        servers.redis_database(redis_server, name) as redis_url,
    ):
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg2://"),
                # Rate limits and readiness need Redis: without it every API request is a 503.
                "REDIS_URL": redis_url,
                # Presigning is local computation: no S3 server is needed to sign thumbnail URLs.
                "S3_BUCKET": "photogate-bench",
                "S3_ENDPOINT_URL": "http://127.0.0.1:9",
                "SECRET_KEY": "bench",
                "PHOTOGATE_INSTANCE_PATH": str(tmp),
            }
        )
        with app.app_context():
            upgrade()
        # No app context is held open: a request made inside one would share its `g` (and so
        # Flask-Login's cached user) with every other request.
        yield app
        with app.app_context():
            db.engine.dispose()


def seed_job(
    size: int, status: JobStatus = JobStatus.PROCESSING
) -> tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]:
    """A user and a job of `size` processed photos, inserted set-wise; returns (user, job, image ids)."""
    now = utcnow()
    user_id, job_id = uuid.uuid4(), uuid.uuid4()
    db.session.execute(insert(User).values(id=user_id, email=f"{user_id}@bench", created_at=now))
    db.session.execute(
        insert(BulkJob).values(
            id=job_id,
            owner_id=user_id,
            provider="rekognition_bulk",
            status=status,
            total=size,
            pending=size,
            processed=size,
            orders_reserved=0,
            refused=0,
            approved=0,
            flagged=0,
            rejected=0,
            failed=0,
            created_at=now,
            updated_at=now,
        )
    )
    sessions = [uuid.uuid4() for _ in range(size)]
    images = [uuid.uuid4() for _ in range(size)]
    db.session.execute(
        insert(PhotoSession),
        [
            {
                "session_id": s,
                "owner_id": user_id,
                "status": SessionStatus.COMPLETED,
                "created_at": now,
                "updated_at": now,
            }
            for s in sessions
        ],
    )
    db.session.execute(
        insert(S3Image),
        [
            {
                "image_id": uuid.uuid4(),
                "session_id": s,
                "kind": kind,
                "bucket": "photogate-bench",
                "key": f"{s}/{kind.value}.jpg",
                "content_type": "image/jpeg",
                "bytes": 1000,
                "width": 320,
                "height": 240,
                "sha256": "0" * 64,
                "created_at": now,
            }
            for s in sessions
            for kind in (ImageKind.ORIGINAL, ImageKind.THUMBNAIL_ORIGINAL)
        ],
    )
    db.session.execute(
        insert(VirtualImage),
        [
            {
                "id": v,
                "session_id": s,
                "original_filename": f"photo-{n}.jpg",
                "sha256": "0" * 64,
                "moderation_status": "pending",
                "provider": "rekognition_bulk",
                "created_at": now,
                "updated_at": now,
            }
            for n, (s, v) in enumerate(zip(sessions, images, strict=True))
        ],
    )
    db.session.execute(
        insert(BulkJobImage),
        [
            {
                "id": uuid.uuid4(),
                "job_id": job_id,
                "virtual_image_id": v,
                "s3_key": f"{s}/original.jpg",
                "upload_order": n,
                "created_at": now,
            }
            for n, (s, v) in enumerate(zip(sessions, images, strict=True))
        ],
    )
    db.session.commit()
    return user_id, job_id, images


def timed(function: Callable[[], object]) -> float:
    """Wall milliseconds of one call."""
    start = time.perf_counter()
    function()
    return (time.perf_counter() - start) * 1000


def median(values: list[float]) -> float:
    return statistics.median(values)
