"""Everything the admin queues page shows: counts per queue, workers, failures and running bulk jobs."""

from dataclasses import dataclass
from datetime import datetime

from rq import Queue, Worker
from rq.registry import BaseRegistry
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import BulkJob, PhotoSession, SessionStatus
from webapp.queue import photo_queue, redis_connection
from webapp.services.jobs import bulk_jobs
from webapp.services.operations.queue_admin.belongings import Belonging, belongings_of
from webapp.services.operations.queue_admin.failures import Failures, failures

RUNNING_JOBS_SHOWN = 20


@dataclass(frozen=True)
class QueueCounts:
    name: str
    queued: int
    started: int
    scheduled: int
    deferred: int
    failed: int


@dataclass(frozen=True)
class WorkerState:
    name: str
    hostname: str | None
    pid: int | None
    queues: list[str]
    state: str
    current_job_id: str | None
    current_job_belongs_to: Belonging | None
    last_heartbeat: datetime | None


@dataclass(frozen=True)
class Overview:
    queues: list[QueueCounts]
    workers: list[WorkerState]
    failures: Failures
    running_jobs: list[BulkJob]
    photos: dict[str, int]  # photos by processing state, every state present


def overview() -> Overview:
    """Everything the admin queues page shows, read now."""
    queues = all_queues()
    return Overview(
        queues=[queue_counts(queue) for queue in queues],
        workers=workers(),
        failures=failures(queues),
        running_jobs=bulk_jobs.running_jobs(RUNNING_JOBS_SHOWN),
        photos=photo_counts(),
    )


def all_queues() -> list[Queue]:
    """The app's queue first, then every other queue this Redis knows, by name."""
    ours = photo_queue()
    others = [queue for queue in Queue.all(connection=ours.connection) if queue.name != ours.name]
    return [ours, *sorted(others, key=lambda queue: queue.name)]


def queue_counts(queue: Queue) -> QueueCounts:
    """How many jobs wait, run, wait for a time or another job, and failed, in one queue.

    Not how many finished: photogate's jobs keep no result (result_ttl 0), so RQ's finished registry
    stays empty however much was done. The database counts the work done (photo_counts).
    """

    # Read only: a page polled every 2 s must not run RQ's cleanup, which would call abandoned jobs'
    # failure callbacks in the web process; the workers' maintenance cleans the registries.
    def count(registry: BaseRegistry) -> int:
        return registry.get_job_count(cleanup=False)

    return QueueCounts(
        name=queue.name,
        queued=queue.count,
        started=count(queue.started_job_registry),
        scheduled=count(queue.scheduled_job_registry),
        deferred=count(queue.deferred_job_registry),
        failed=count(queue.failed_job_registry),
    )


def photo_counts() -> dict[str, int]:
    """How many photos are in each processing state, from the database (one grouped count)."""
    counted = dict(
        db.session.execute(select(PhotoSession.status, func.count()).group_by(PhotoSession.status)).all()
    )
    return {state.value: counted.get(state, 0) for state in SessionStatus}


def workers() -> list[WorkerState]:
    """Every worker registered in this Redis, by name, with the job it runs now."""
    found = sorted(Worker.all(connection=redis_connection()), key=lambda worker: worker.name)
    current = {worker.name: worker.get_current_job_id() for worker in found}
    belongings = belongings_of(job_id for job_id in current.values() if job_id)
    return [
        WorkerState(
            name=worker.name,
            hostname=worker.hostname,
            pid=worker.pid,
            queues=worker.queue_names(),
            state=worker.get_state(),
            current_job_id=current[worker.name],
            current_job_belongs_to=belongings.get(current[worker.name]),
            last_heartbeat=worker.last_heartbeat,
        )
        for worker in found
    ]
