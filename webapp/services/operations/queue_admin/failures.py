"""Failed jobs as the admin queues page shows them: the newest of each queue, grouped by error.

Failures are read newest first, at most FAILED_LIMIT per queue, with their tracebacks fetched BATCH
at a time.
"""

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from redis import Redis
from rq import Queue
from rq.registry import FailedJobRegistry
from rq.results import Result

from webapp.services.operations.queue_admin import BATCH
from webapp.services.operations.queue_admin.belongings import Belonging, belongings_of

FAILED_LIMIT = 1000
NO_TRACEBACK = "No traceback was kept for this failure."
# RQ stamps the moment into the reason it gives abandoned jobs; without it they group together.
_MOMENT_AT_END = re.compile(r", at \d{4}-\d{2}-\d{2}[ T][\d:.+-]+$")

Error = tuple[str, str]


@dataclass(frozen=True)
class FailedJob:
    id: str
    queue: str
    failed_at: datetime | None
    belongs_to: Belonging = field(default_factory=Belonging)


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


def failures(queues: list[Queue]) -> Failures:
    """The newest FAILED_LIMIT failed jobs of each queue, grouped by error, the latest group first."""
    read = [(job, error) for queue in queues for job, error in newest_failures(queue.failed_job_registry)]
    read.sort(key=lambda item: item[0].failed_at or datetime.min.replace(tzinfo=UTC), reverse=True)
    belongings = belongings_of(job.id for job, _ in read)
    groups: dict[Error, FailureGroup] = {}
    for job, error in read:
        group = groups.setdefault(error, FailureGroup(*error))
        group.jobs.append(replace(job, belongs_to=belongings.get(job.id, Belonging())))
    total = sum(queue.failed_job_registry.get_job_count(cleanup=False) for queue in queues)
    return Failures(list(groups.values()), len(read), total, FAILED_LIMIT)


def newest_failures(registry: FailedJobRegistry) -> list[tuple[FailedJob, Error]]:
    """The newest FAILED_LIMIT failed jobs of one registry, each with its error."""
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
