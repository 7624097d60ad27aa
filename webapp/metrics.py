"""Prometheus metrics, counted at scrape time where the truth is: PostgreSQL, and Redis for the queues.

Many web and worker processes on many machines share the work, so a counter kept in one process
would see only its slice and disagree with the others; every number here is read when scraped,
one grouped statement per family (one pipelined round trip for Redis).

`photogate_processing_duration_seconds` covers the photos that finished in the last
DURATION_WINDOW (24 h): a snapshot of recent work, not a counter that only grows, so read its
buckets as they are (`histogram_quantile(0.95, photogate_processing_duration_seconds_bucket)`),
not through `rate()`.

A backend that does not answer drops its families from the scrape and reports
`photogate_backend_up{backend=...} 0` instead of failing the whole scrape.
"""

import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from functools import cache
from typing import NamedTuple

from flask import current_app
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.worker_registration import REDIS_WORKER_KEYS, WORKERS_BY_QUEUE_KEY
from sqlalchemy import ColumnElement, Connection, case, extract, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from webapp.extensions import db
from webapp.models import (
    Bank,
    BankEntry,
    BulkJob,
    JobStatus,
    PhotoSession,
    SessionStatus,
    VirtualImage,
    WebhookDelivery,
    WebhookEvent,
)
from webapp.models.types import utcnow
from webapp.providers.cascade import TARGETS
from webapp.queue import redis_connection
from webapp.received_bytes import RECEIVED_KEY
from webapp.services.banks.hash_matching import LOOKUP_BUCKETS, LOOKUPS_KEY
from webapp.services.moderation import claims, second_opinion

log = logging.getLogger(__name__)

DURATION_HOURS = 24
DURATION_WINDOW = timedelta(hours=DURATION_HOURS)
DURATION_BUCKETS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
# A scrape that waits on a slow count is worth less than one that reports the database as down.
STATEMENT_TIMEOUT_MS = 5000
# The registries each RQ queue keeps, in the order their depths are read.
QUEUE_STATES = ("queued", "started", "scheduled", "deferred", "failed")


class Counted(NamedTuple):
    """A gauge of row counts: its name, its help, its labels' columns, and groups shown even at 0."""

    name: str
    documentation: str
    labels: dict[str, ColumnElement]
    always: tuple[tuple[str, ...], ...] = ()


def _each(values: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    return tuple((str(value),) for value in values)


COUNTED = (
    Counted(
        "photogate_uploads",
        "Photos (processing sessions) by status.",
        {"status": PhotoSession.status},
        _each(SessionStatus),
    ),
    Counted("photogate_bulk_jobs", "Bulk NSFW jobs by status.", {"status": BulkJob.status}, _each(JobStatus)),
    Counted(
        "photogate_virtual_images",
        "Virtual images by moderation verdict and the source of the verdict.",
        {"moderation_status": VirtualImage.moderation_status, "source": VirtualImage.source},
    ),
    Counted(
        "photogate_webhook_events",
        "Accepted moderation callbacks by result.",
        {"result": WebhookEvent.result},
    ),
    Counted(
        "photogate_webhook_deliveries",
        "Job notification delivery attempts: delivered (2xx), http_error (another status), "
        "no_response (no HTTP answer).",
        {
            "outcome": case(
                (WebhookDelivery.delivered, "delivered"),
                (WebhookDelivery.status_code.is_not(None), "http_error"),
                else_="no_response",
            )
        },
        _each(("delivered", "http_error", "no_response")),
    ),
)


class PhotogateCollector(Collector):
    """Reads every family at scrape time; collect() must run inside an app context."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "photogate_backend_up",
            "1 if the backend answered this scrape's queries, else 0.",
            labels=["backend"],
        )
        for backend, read in (("database", database_families), ("redis", redis_families)):
            families = _read(backend, read)
            up.add_metric([backend], 0 if families is None else 1)
            yield from families or []
        yield up


@cache
def metrics_registry() -> CollectorRegistry:
    """The process's one registry, holding only the photogate collector."""
    registry = CollectorRegistry()
    registry.register(PhotogateCollector())
    return registry


def _read(backend: str, read: Callable[[], list[Metric]]) -> list[Metric] | None:
    """`read()`'s families, or None (logged) when the backend did not answer."""
    try:
        return read()
    except (SQLAlchemyError, RedisError) as exc:
        # One line, not a traceback: a backend that is down stays down for many scrapes.
        log.warning("metrics: the %s did not answer: %s", backend, exc)
        return None


def database_families() -> list[Metric]:
    """Uploads, jobs, verdicts, webhooks, processing durations, bank matches, the review queues and the
    second opinions."""
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # SET LOCAL ends with this read-only transaction, which the block rolls back.
            connection.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
        return [
            *(_counts(connection, counted) for counted in COUNTED),
            _durations(connection),
            _bank_matches(connection),
            *_review_queues(connection),
            *_second_opinions(connection),
        ]


def _counts(connection: Connection, counted: Counted) -> GaugeMetricFamily:
    """The family's row counts, grouped by its label columns in one statement."""
    columns = list(counted.labels.values())
    rows = connection.execute(select(*columns, func.count()).group_by(*columns))
    counts = dict.fromkeys(counted.always, 0) | {tuple(map(_label, row[:-1])): row[-1] for row in rows}
    family = GaugeMetricFamily(counted.name, counted.documentation, labels=list(counted.labels))
    for values, count in counts.items():
        family.add_metric(values, count)
    return family


def _label(value: object) -> str:
    # The enums are StrEnums, so str() gives their stored value; a source not yet known reads "none".
    return "none" if value is None else str(value)


def _durations(connection: Connection) -> HistogramMetricFamily:
    """Seconds from upload to completed or failed, for photos that finished within DURATION_WINDOW."""
    seconds = _seconds_between(connection, PhotoSession.created_at, PhotoSession.completed_at)
    finished = (
        select(PhotoSession.status, seconds.label("seconds"))
        .where(
            PhotoSession.status.in_([SessionStatus.COMPLETED, SessionStatus.FAILED]),
            PhotoSession.completed_at >= utcnow() - DURATION_WINDOW,
        )
        .subquery()
    )
    # Each bucket counts every duration up to its bound, which is the cumulative count Prometheus expects.
    buckets = [func.count().filter(finished.c.seconds <= bound) for bound in DURATION_BUCKETS]
    total = func.coalesce(func.sum(finished.c.seconds), 0)
    query = select(finished.c.status, *buckets, func.count(), total).group_by(finished.c.status)
    family = HistogramMetricFamily(
        "photogate_processing_duration_seconds",
        f"Seconds from upload to completed or failed, for photos finished in the last {DURATION_HOURS} h.",
        labels=["status"],
    )
    bounds = [*map(floatToGoString, DURATION_BUCKETS), "+Inf"]
    for status, *counts, seconds_sum in connection.execute(query):
        family.add_metric([_label(status)], list(zip(bounds, counts, strict=True)), float(seconds_sum))
    return family


def _bank_matches(connection: Connection) -> GaugeMetricFamily:
    """Images each bank decided (every bank, 0 too), by the entry they matched."""
    query = (
        select(Bank.name, func.count(VirtualImage.id))
        .select_from(Bank)
        .outerjoin(BankEntry, BankEntry.bank_id == Bank.id)
        .outerjoin(VirtualImage, VirtualImage.matched_entry_id == BankEntry.id)
        .group_by(Bank.name)
    )
    family = GaugeMetricFamily(
        "photogate_hash_matches", "Images decided by a match of the bank's entries.", labels=["bank"]
    )
    for name, count in connection.execute(query):
        family.add_metric([name], count)
    return family


def _review_queues(connection: Connection) -> list[GaugeMetricFamily]:
    """Per review queue, the images nobody holds and how long the oldest has waited (0 when none)."""
    waiting = GaugeMetricFamily(
        "photogate_review_waiting",
        "Images waiting for a person that nobody holds, by queue.",
        labels=["queue"],
    )
    oldest = GaugeMetricFamily(
        "photogate_review_oldest_seconds",
        "Seconds the oldest image nobody holds has waited (since its upload or appeal), by queue; "
        "0 when none.",
        labels=["queue"],
    )
    for queue in claims.Queue:
        count, seconds = claims.queue_size(queue, connection)
        waiting.add_metric([queue.value], count)
        oldest.add_metric([queue.value], seconds or 0)
    return [waiting, oldest]


def _second_opinions(connection: Connection) -> list[GaugeMetricFamily]:
    """Images a provider answered, and those whose first answer fell in the band, by the second provider."""
    counts = second_opinion.share(connection)
    escalated = GaugeMetricFamily(
        "photogate_moderation_escalated",
        "Images whose first provider's answer fell in MODERATION_ESCALATE_BAND, by the second provider.",
        labels=["provider"],
    )
    for target in TARGETS:
        escalated.add_metric([target], counts.escalated.get(target, 0))
    moderated = GaugeMetricFamily(
        "photogate_moderation_answered",
        "Images a moderation provider answered (not decided by a bank match or a duplicate).",
        value=counts.moderated,
    )
    return [escalated, moderated]


def _seconds_between(connection: Connection, start: ColumnElement, end: ColumnElement) -> ColumnElement:
    if connection.dialect.name == "sqlite":
        # The embedded mode's SQLite has no interval type; julianday() counts days as a float.
        return (func.julianday(end) - func.julianday(start)) * 86400
    return extract("epoch", end - start)


def redis_families() -> list[Metric]:
    """Each RQ queue's jobs by state and its workers, and the workers registered in all."""
    connection = redis_connection()
    queues = _queues(connection)
    per_queue, registered = _queue_counts(connection, queues)
    jobs = GaugeMetricFamily("photogate_queue_jobs", "RQ jobs by queue and state.", labels=["queue", "state"])
    workers = GaugeMetricFamily(
        "photogate_queue_workers", "RQ workers listening on the queue.", labels=["queue"]
    )
    for queue, (*depths, listening) in zip(queues, per_queue, strict=True):
        for state, depth in zip(QUEUE_STATES, depths, strict=True):
            jobs.add_metric([queue.name, state], depth)
        workers.add_metric([queue.name], listening)
    return [
        jobs,
        workers,
        GaugeMetricFamily("photogate_workers", "RQ workers registered.", value=registered),
        _hash_lookups(connection),
        CounterMetricFamily(
            "photogate_http_received_bytes",
            "Request body bytes the web received (files sent straight to the bucket are not among them).",
            value=int(connection.get(RECEIVED_KEY) or 0),
        ),
    ]


def _hash_lookups(connection: Redis) -> HistogramMetricFamily:
    """Every worker's bank lookups and their seconds, as counted in Redis (they only grow: use rate())."""
    counted = {field.decode(): value.decode() for field, value in connection.hgetall(LOOKUPS_KEY).items()}
    bounds = [*map(floatToGoString, LOOKUP_BUCKETS), "+Inf"]
    counts = [int(counted.get(f"le:{bound}", 0)) for bound in LOOKUP_BUCKETS] + [int(counted.get("count", 0))]
    family = HistogramMetricFamily(
        "photogate_hash_lookup_duration_seconds",
        "Seconds per bank lookup (index search and the database check of its candidates).",
    )
    family.add_metric([], list(zip(bounds, counts, strict=True)), float(counted.get("sum", 0)))
    return family


def _queue_counts(connection: Redis, queues: list[Queue]) -> tuple[list[list[int]], int]:
    """Per queue its depth in each of QUEUE_STATES then its workers; and all workers: one round trip."""
    pipeline = connection.pipeline(transaction=False)
    for queue in queues:
        pipeline.llen(queue.key)
        for registry in (
            queue.started_job_registry,
            queue.scheduled_job_registry,
            queue.deferred_job_registry,
            queue.failed_job_registry,
        ):
            # ZCARD, not the registry's `count`, which would first clean it up: a scrape only reads.
            pipeline.zcard(registry.key)
        pipeline.scard(WORKERS_BY_QUEUE_KEY % queue.name)
    pipeline.scard(REDIS_WORKER_KEYS)
    *answers, registered = pipeline.execute()
    width = len(QUEUE_STATES) + 1
    return [answers[start : start + width] for start in range(0, len(answers), width)], registered


def _queues(connection: Redis) -> list[Queue]:
    """Every queue RQ knows in this Redis database, and photogate's own even before its first job."""
    queues = {queue.name: queue for queue in Queue.all(connection=connection)}
    name = current_app.config["QUEUE_NAME"]
    queues.setdefault(name, Queue(name, connection=connection))
    return sorted(queues.values(), key=lambda queue: queue.name)
