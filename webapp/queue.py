"""The job queue: one Redis connection per process, jobs enqueued by dotted path after commit.

The web app never imports `workers/`; it names the job functions, every one of them here. PostgreSQL
holds every photo's state, Redis only carries the work. Each job's meta names what it works for, which
the admin queues page links: {"photo": session id}, {"virtual_image": id} or {"bulk_job": id}.
"""

import uuid
from datetime import timedelta

from flask import Flask, current_app
from redis import Redis
from rq import Callback, Queue, Retry

PROCESS_PHOTO = "workers.jobs.process_photo"
PROCESS_PHOTO_FAILED = "workers.jobs.process_photo_failed"
START_BULK_MODERATION = "workers.jobs.start_bulk_moderation"
POLL_BULK_MODERATION = "workers.jobs.poll_bulk_moderation"
JOB_STEP_FAILED = "workers.jobs.job_step_failed"
DELIVER_NOTIFICATION = "workers.jobs.deliver_notification"
REQUEST_EXTERNAL = "workers.jobs.request_external_moderation"
REQUEST_EXTERNAL_FAILED = "workers.jobs.request_external_moderation_failed"
EXTERNAL_DEADLINE = "workers.jobs.external_moderation_deadline"
FAILURE_TTL = 7 * 24 * 3600


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


def _retry(setting: str = "JOB_RETRY_INTERVALS") -> Retry | None:
    intervals = current_app.config[setting]
    return Retry(max=len(intervals), interval=intervals) if intervals else None


def _processing_job(session_id: uuid.UUID) -> dict:
    return {
        "args": (str(session_id),),
        "job_id": processing_job_id(session_id),
        "meta": {"photo": str(session_id)},
        "timeout": current_app.config["JOB_TIMEOUT"],
        "retry": _retry(),
        "on_failure": Callback(PROCESS_PHOTO_FAILED),
        "result_ttl": 0,
        "failure_ttl": FAILURE_TTL,
    }


def enqueue_photo_processing(session_id: uuid.UUID) -> None:
    """Queue the worker's pipeline for a photo whose original is committed and stored."""
    options = _processing_job(session_id)
    args, timeout = options.pop("args"), options.pop("timeout")
    photo_queue().enqueue(PROCESS_PHOTO, *args, job_timeout=timeout, **options)


def enqueue_job_step(function: str, job_id: uuid.UUID, step: str, delay: int = 0) -> None:
    """Queue (or schedule, after `delay` seconds) one step of a job-level provider's work."""
    queue = photo_queue()
    options = {
        "job_id": f"{step}-{job_id}",
        "meta": {"bulk_job": str(job_id)},
        "retry": _retry(),
        "on_failure": Callback(JOB_STEP_FAILED),
        "result_ttl": 0,
        "failure_ttl": FAILURE_TTL,
    }
    if delay:
        queue.enqueue_in(timedelta(seconds=delay), function, str(job_id), **options)
    else:
        queue.enqueue(function, str(job_id), **options)


def enqueue_notification(job_id: uuid.UUID) -> None:
    """Deliver a job's completion event, retried with backoff until the receiver takes it."""
    photo_queue().enqueue(
        DELIVER_NOTIFICATION,
        str(job_id),
        job_id=f"notify-{job_id}",
        meta={"bulk_job": str(job_id)},
        retry=_retry("NOTIFICATION_RETRY_INTERVALS"),
        result_ttl=0,
        failure_ttl=FAILURE_TTL,
    )


def enqueue_external_request(virtual_image_id: uuid.UUID, deadline: int) -> None:
    """Hand an image to the external moderation service, and check on it at its deadline."""
    queue = photo_queue()
    queue.enqueue(
        REQUEST_EXTERNAL,
        str(virtual_image_id),
        job_id=f"external-{virtual_image_id}",
        meta={"virtual_image": str(virtual_image_id)},
        retry=_retry("EXTERNAL_RETRY_INTERVALS"),
        on_failure=Callback(REQUEST_EXTERNAL_FAILED),
        result_ttl=0,
        failure_ttl=FAILURE_TTL,
    )
    schedule_deadline_check(virtual_image_id, deadline)


def schedule_deadline_check(virtual_image_id: uuid.UUID, delay: int) -> None:
    """Check, after `delay` seconds, that the external service answered for the image."""
    photo_queue().enqueue_in(
        timedelta(seconds=delay),
        EXTERNAL_DEADLINE,
        str(virtual_image_id),
        meta={"virtual_image": str(virtual_image_id)},
        result_ttl=0,
        failure_ttl=FAILURE_TTL,
    )
