"""Failed jobs put back on their queue: one, one failure group as the page shows it, or all."""

import uuid

from rq.exceptions import InvalidJobOperation
from rq.job import Job
from rq.registry import FailedJobRegistry

from webapp.models import User
from webapp.queue import PROCESS_PHOTO
from webapp.services.operations.queue_admin import BATCH
from webapp.services.operations.queue_admin.failures import newest_failures
from webapp.services.operations.queue_admin.overview import all_queues
from webapp.services.photos import processing

REQUEUE_LIMIT = 10_000


def requeue(job_id: str, admin: User) -> int:
    """`admin` puts one failed job back on its queue: 1, or 0 when no failed list holds it (any more)."""
    for queue in all_queues():
        registry = queue.failed_job_registry
        if job_id in registry:
            return _requeue(registry, [job_id], admin)
    return 0


def requeue_group(exception_type: str, message: str, admin: User) -> int:
    """Requeue the failed jobs of one group among the newest FAILED_LIMIT of each queue, as the page shows."""
    requeued = 0
    for queue in all_queues():
        registry = queue.failed_job_registry
        matching = [job.id for job, error in newest_failures(registry) if error == (exception_type, message)]
        requeued += _requeue(registry, matching, admin)
    return requeued


def requeue_all(admin: User) -> int:
    """Requeue the failed jobs of every queue, oldest first, at most REQUEUE_LIMIT in one call."""
    requeued = 0
    for queue in all_queues():
        if requeued >= REQUEUE_LIMIT:
            break
        registry = queue.failed_job_registry
        job_ids = registry.get_job_ids(0, REQUEUE_LIMIT - requeued - 1, cleanup=False)
        requeued += _requeue(registry, job_ids, admin)
    return requeued


def _requeue(registry: FailedJobRegistry, job_ids: list[str], admin: User) -> int:
    """Requeue through RQ's registry, BATCH jobs fetched at a time; skips jobs gone or requeued meanwhile."""
    requeued = 0
    for start in range(0, len(job_ids), BATCH):
        jobs = Job.fetch_many(job_ids[start : start + BATCH], connection=registry.connection)
        requeued += sum(_requeue_one(registry, job, admin) for job in jobs if job)
    return requeued


def _requeue_one(registry: FailedJobRegistry, job: Job, admin: User) -> bool:
    if job.func_name == PROCESS_PHOTO:
        # The photo ended `failed` when the job's last retry failed: reopen it, or the job would skip it.
        processing.reopen(uuid.UUID(job.args[0]), admin)
    try:
        registry.requeue(job)
    except InvalidJobOperation:  # no longer in the registry: requeued by someone else meanwhile
        return False
    return True
