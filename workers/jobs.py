"""Job functions, enqueued by dotted path from the web app (see webapp/queue.py)."""

import uuid

from rq.job import Job

from webapp.services import bulk_moderation, processing
from workers.context import app_context


def process_photo(session_id: str) -> None:
    """Run the photo pipeline for one session; safe to run twice."""
    with app_context():
        processing.process_session(uuid.UUID(session_id))


def start_bulk_moderation(job_id: str) -> None:
    """Start a job-level provider's analysis of a job whose photos are all processed."""
    with app_context():
        bulk_moderation.start_analysis(uuid.UUID(job_id))


def poll_bulk_moderation(job_id: str) -> None:
    """One scheduled check of a job-level analysis; schedules the next while it runs."""
    with app_context():
        bulk_moderation.poll(uuid.UUID(job_id))


def process_photo_failed(job: Job, connection, exc_type, exc_value, traceback) -> None:
    """RQ failure callback: once no retry is left, the photo ends failed with the reason."""
    if not job.should_retry:
        _fail_after_attempts(job, f"{exc_type.__name__}: {exc_value}" if exc_type else "unknown error")


def job_step_failed(job: Job, connection, exc_type, exc_value, traceback) -> None:
    """RQ failure callback of a job-level step: when no retry is left, its pending images end `error`."""
    if not job.should_retry:
        cause = f"{exc_type.__name__}: {exc_value}" if exc_type else "unknown error"
        with app_context():
            bulk_moderation.fail_pending(
                uuid.UUID(job.args[0]), f"Bulk moderation failed after every retry: {cause}"
            )


def work_horse_killed(job: Job, retpid: int, ret_val: int, rusage) -> None:
    """The process running the job died (killed, out of memory): same rule as a failure."""
    if job.func_name == "workers.jobs.process_photo" and not job.should_retry:
        _fail_after_attempts(job, f"the worker process died (wait status {ret_val})")


def _fail_after_attempts(job: Job, cause: str) -> None:
    with app_context():
        processing.give_up(uuid.UUID(job.args[0]), f"Processing failed after every retry: {cause}")
