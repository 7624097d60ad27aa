"""The job queue: one Redis connection per process, jobs enqueued by dotted path after commit.

The web app never imports `workers/`; it names the job functions. PostgreSQL holds every
photo's state, Redis only carries the work.
"""

import uuid

from flask import Flask, current_app
from redis import Redis
from rq import Callback, Queue, Retry

PROCESS_PHOTO = "workers.jobs.process_photo"
PROCESS_PHOTO_FAILED = "workers.jobs.process_photo_failed"


def init_queue(app: Flask) -> None:
    app.extensions["photogate.redis"] = Redis.from_url(
        app.config["REDIS_URL"], socket_connect_timeout=5, socket_timeout=30, health_check_interval=30
    )


def redis_connection() -> Redis:
    return current_app.extensions["photogate.redis"]


def photo_queue() -> Queue:
    return Queue(current_app.config["QUEUE_NAME"], connection=redis_connection())


def processing_job_id(session_id: uuid.UUID) -> str:
    """One job id per photo, so a repeated enqueue replaces rather than adds work."""
    return f"process-photo-{session_id}"


def enqueue_photo_processing(session_id: uuid.UUID) -> None:
    """Queue the worker's pipeline for a photo whose original is committed and stored."""
    config = current_app.config
    intervals = config["JOB_RETRY_INTERVALS"]
    photo_queue().enqueue(
        PROCESS_PHOTO,
        str(session_id),
        job_id=processing_job_id(session_id),
        job_timeout=config["JOB_TIMEOUT"],
        retry=Retry(max=len(intervals), interval=intervals) if intervals else None,
        on_failure=Callback(PROCESS_PHOTO_FAILED),
        result_ttl=0,
        failure_ttl=7 * 24 * 3600,
    )
