"""RQ as the admin queues page shows it: counts per queue, workers, failures grouped by error; requeues.

A failed registry can hold ~200k jobs (rq-dashboard #396), so failures are read newest first, at most
FAILED_LIMIT per queue, in pipelined batches of BATCH jobs: never one Redis round trip per job.
"""

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from redis import Redis
from rq import Queue, Worker
from rq.exceptions import InvalidJobOperation
from rq.job import Job
from rq.registry import BaseRegistry, FailedJobRegistry
from rq.results import Result
from sqlalchemy import or_, select

from webapp.extensions import db
from webapp.models import BulkJob, BulkJobImage, VirtualImage
from webapp.queue import PROCESS_PHOTO, photo_queue, redis_connection
from webapp.services import bulk_jobs, processing

FAILED_LIMIT = 1000
REQUEUE_LIMIT = 10_000
BATCH = 200
RUNNING_JOBS_SHOWN = 20
NO_TRACEBACK = "No traceback was kept for this failure."
# The job ids webapp/queue.py gives: process-photo-<session>, external-<virtual image>, and for a bulk
# job notify-<job>, bulk-start-<job>, bulk-poll-<hex>-<job>.
_UUID_AT_END = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# RQ stamps the moment into the reason it gives abandoned jobs; without it they group together.
_MOMENT_AT_END = re.compile(r", at \d{4}-\d{2}-\d{2}[ T][\d:.+-]+$")

Error = tuple[str, str]


@dataclass(frozen=True)
class QueueCounts:
    name: str
    queued: int
    started: int
    scheduled: int
    deferred: int
    finished: int
    failed: int


@dataclass(frozen=True)
class Belonging:
    """What a job works for: a photo (its session), a bulk job, or both."""

    session_id: str | None = None
    bulk_job_id: str | None = None


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
class FailedJob:
    id: str
    queue: str
    failed_at: datetime | None
    belongs_to: Belonging = Belonging()


@dataclass
class FailureGroup:
    """Failed jobs that raised the same exception type with the same first line, newest first."""

    type: str
    message: str
    jobs: list[FailedJob] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.jobs)

    @property
    def bulk_job_ids(self) -> list[str]:
        found = (job.belongs_to.bulk_job_id for job in self.jobs)
        return list(dict.fromkeys(job_id for job_id in found if job_id))


@dataclass(frozen=True)
class Failures:
    groups: list[FailureGroup]
    grouped: int
    total: int
    limit: int


@dataclass(frozen=True)
class Overview:
    queues: list[QueueCounts]
    workers: list[WorkerState]
    failures: Failures
    running_jobs: list[BulkJob]


def overview() -> Overview:
    """Everything the admin queues page shows, read now."""
    queues = all_queues()
    return Overview(
        queues=[queue_counts(queue) for queue in queues],
        workers=workers(),
        failures=failures(queues),
        running_jobs=bulk_jobs.running_jobs(RUNNING_JOBS_SHOWN),
    )


def all_queues() -> list[Queue]:
    """The app's queue first, then every other queue this Redis knows, by name."""
    ours = photo_queue()
    others = [queue for queue in Queue.all(connection=ours.connection) if queue.name != ours.name]
    return [ours, *sorted(others, key=lambda queue: queue.name)]


def queue_counts(queue: Queue) -> QueueCounts:
    """How many jobs wait, run, wait for a time or another job, and ended, in one queue."""

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
        finished=count(queue.finished_job_registry),
        failed=count(queue.failed_job_registry),
    )


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


def failures(queues: list[Queue]) -> Failures:
    """The newest FAILED_LIMIT failed jobs of each queue, grouped by error, the latest group first."""
    read = [(job, error) for queue in queues for job, error in _newest_failures(queue.failed_job_registry)]
    read.sort(key=lambda item: item[0].failed_at or datetime.min.replace(tzinfo=UTC), reverse=True)
    belongings = belongings_of(job.id for job, _ in read)
    groups: dict[Error, FailureGroup] = {}
    for job, error in read:
        group = groups.setdefault(error, FailureGroup(*error))
        group.jobs.append(replace(job, belongs_to=belongings.get(job.id, Belonging())))
    total = sum(queue.failed_job_registry.get_job_count(cleanup=False) for queue in queues)
    return Failures(list(groups.values()), len(read), total, FAILED_LIMIT)


def error_of(exc_string: str | None) -> Error:
    """(exception type, first line of its message) of a traceback; RQ's own reasons have no type."""
    lines = (exc_string or "").strip().splitlines()
    if not lines:
        return "", NO_TRACEBACK
    headers = [index for index, line in enumerate(lines) if line.startswith("Traceback (most recent call")]
    if not headers:
        return "", _MOMENT_AT_END.sub("", lines[0])
    # After the last traceback header (the exception actually raised, when several are chained), the
    # frames are indented; the first line that is not names the exception.
    raised = next((line for line in lines[headers[-1] + 1 :] if line and not line[0].isspace()), lines[-1])
    exception_type, _, message = raised.partition(": ")
    return exception_type, message


def belongings_of(job_ids: Iterable[str]) -> dict[str, Belonging]:
    """For each job id of ours, the photo and the bulk job it works for, from its id and the database."""
    parsed = {job_id: target for job_id in job_ids if (target := _target(job_id))}
    photos = _photos({key for kind, key in parsed.values() if kind != "job"})
    return {job_id: _belonging(kind, key, photos) for job_id, (kind, key) in parsed.items()}


def requeue(job_id: str) -> int:
    """Put one failed job back on its queue: 1, or 0 when no failed list holds it (any more)."""
    for queue in all_queues():
        registry = queue.failed_job_registry
        if job_id in registry:
            return _requeue(registry, [job_id])
    return 0


def requeue_group(exception_type: str, message: str) -> int:
    """Requeue the failed jobs of one group among the newest FAILED_LIMIT of each queue, as the page shows."""
    requeued = 0
    for queue in all_queues():
        registry = queue.failed_job_registry
        matching = [job.id for job, error in _newest_failures(registry) if error == (exception_type, message)]
        requeued += _requeue(registry, matching)
    return requeued


def requeue_all() -> int:
    """Requeue the failed jobs of every queue, oldest first, at most REQUEUE_LIMIT in one call."""
    requeued = 0
    for queue in all_queues():
        if requeued >= REQUEUE_LIMIT:
            break
        registry = queue.failed_job_registry
        requeued += _requeue(registry, registry.get_job_ids(0, REQUEUE_LIMIT - requeued - 1, cleanup=False))
    return requeued


def _newest_failures(registry: FailedJobRegistry) -> list[tuple[FailedJob, Error]]:
    # The registry is scored by expiry (in whole seconds); our jobs share one failure TTL, so the highest
    # scores are the newest failures.
    job_ids = registry.get_job_ids(0, FAILED_LIMIT - 1, desc=True, cleanup=False)
    results = _latest_results(registry.connection, job_ids)
    return [
        (
            FailedJob(job_id, registry.name, result.created_at if result else None),
            error_of(result.exc_string if result else None),
        )
        for job_id, result in zip(job_ids, results, strict=True)
    ]


def _latest_results(connection: Redis, job_ids: list[str]) -> list[Result | None]:
    """Each job's latest result, where RQ 3 keeps the traceback: one pipelined round trip per BATCH."""
    results = []
    for start in range(0, len(job_ids), BATCH):
        batch = job_ids[start : start + BATCH]
        with connection.pipeline(transaction=False) as pipeline:
            for job_id in batch:
                pipeline.xrevrange(Result.get_key(job_id), count=1)
            entries = pipeline.execute()
        results += [_result(connection, *pair) for pair in zip(batch, entries, strict=True)]
    return results


def _result(connection: Redis, job_id: str, latest: list) -> Result | None:
    if not latest:
        return None
    result_id, payload = latest[0]
    return Result.restore(job_id, result_id.decode(), payload, connection=connection)


def _target(job_id: str) -> tuple[str, uuid.UUID] | None:
    """("photo", session id), ("image", virtual image id) or ("job", bulk job id), read from a job id."""
    found = _UUID_AT_END.search(job_id)
    if not found:
        return None
    key = uuid.UUID(found.group())
    if job_id.startswith("process-photo-"):
        return "photo", key
    if job_id.startswith("external-"):
        return "image", key
    if job_id.startswith(("bulk-", "notify-")):
        return "job", key
    return None


def _belonging(kind: str, key: uuid.UUID, photos: dict[uuid.UUID, Belonging]) -> Belonging:
    if kind == "job":
        return Belonging(bulk_job_id=str(key))
    if key in photos:
        return photos[key]
    # A photo job still names its photo when the database does not know it; an image job names nothing.
    return Belonging(session_id=str(key)) if kind == "photo" else Belonging()


def _photos(keys: set[uuid.UUID]) -> dict[uuid.UUID, Belonging]:
    """The photo and bulk job of each session or virtual image id among `keys`, in one query."""
    if not keys:
        return {}
    rows = db.session.execute(
        select(VirtualImage.id, VirtualImage.session_id, BulkJobImage.job_id)
        .outerjoin(BulkJobImage, BulkJobImage.virtual_image_id == VirtualImage.id)
        .where(or_(VirtualImage.session_id.in_(keys), VirtualImage.id.in_(keys)))
    )
    found = {}
    for image_id, session_id, job_id in rows:
        found[image_id] = found[session_id] = Belonging(str(session_id), str(job_id) if job_id else None)
    return found


def _requeue(registry: FailedJobRegistry, job_ids: list[str]) -> int:
    """Requeue through RQ's registry, BATCH jobs fetched at a time; skips jobs gone or requeued meanwhile."""
    requeued = 0
    for start in range(0, len(job_ids), BATCH):
        jobs = Job.fetch_many(job_ids[start : start + BATCH], connection=registry.connection)
        requeued += sum(_requeue_one(registry, job) for job in jobs if job)
    return requeued


def _requeue_one(registry: FailedJobRegistry, job: Job) -> bool:
    if job.func_name == PROCESS_PHOTO:
        # The photo ended `failed` when the job's last retry failed: reopen it, or the job would skip it.
        processing.reopen(uuid.UUID(job.args[0]))
    try:
        registry.requeue(job)
    except InvalidJobOperation:  # no longer in the registry: requeued by someone else meanwhile
        return False
    return True
