"""Job functions, enqueued by dotted path from the web app (see webapp/queue.py)."""

import uuid

from rq import get_current_job
from rq.job import Job

from webapp.providers import ModerationFailed, registry
from webapp.queue import PROCESS_PHOTO
from webapp.services import verdicts
from webapp.services.jobs import notifications
from webapp.services.moderation import bulk_moderation, external_moderation
from webapp.services.operations import reconciler
from webapp.services.photos import processing
from workers.context import app_context

# The provider the audit log names for an image the external service could not be asked about.
EXTERNAL = registry.ExternalService.name


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


def request_external_moderation(virtual_image_id: str) -> None:
    """Hand one image to the external moderation service; retried with backoff while it is down."""
    with app_context():
        try:
            external_moderation.send_request(uuid.UUID(virtual_image_id))
        except ModerationFailed as exc:
            verdicts.record_error(uuid.UUID(virtual_image_id), f"Not moderated: {exc}", EXTERNAL)


def request_external_moderation_failed(job: Job, connection, exc_type, exc_value, traceback) -> None:
    """RQ failure callback: once no retry is left, the image ends `error`, never approved."""
    if not job.should_retry:
        with app_context():
            verdicts.record_error(
                uuid.UUID(job.args[0]),
                f"The moderation service could not be reached after every retry: {exc_value}",
                EXTERNAL,
            )


def external_moderation_deadline(virtual_image_id: str) -> None:
    """At its deadline, an image the service has not answered ends `error`."""
    with app_context():
        external_moderation.deadline_passed(uuid.UUID(virtual_image_id))


def deliver_notification(job_id: str) -> None:
    """One attempt to POST a finished job's signed event to its callback URL."""
    job = get_current_job()
    retries_left = (job.retries_left or 0) if job else 0
    attempt = (len(job.retry_intervals or []) if job else 0) - retries_left + 1
    with app_context():
        try:
            notifications.deliver(uuid.UUID(job_id), attempt, retries_left)
        except notifications.NotificationRefused:
            return


def reconcile() -> None:
    """The periodic reconciler: queue again whatever PostgreSQL says is unfinished and has no live job."""
    with app_context():
        reconciler.reconcile()


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
    if job.func_name == PROCESS_PHOTO and not job.should_retry:
        _fail_after_attempts(job, f"the worker process died (wait status {ret_val})")


def _fail_after_attempts(job: Job, cause: str) -> None:
    with app_context():
        processing.give_up(uuid.UUID(job.args[0]), f"Processing failed after every retry: {cause}")
