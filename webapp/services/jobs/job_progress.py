"""How a bulk job moves on, in one place: count what happened, claim its notification, queue what follows.

`advance` runs in the caller's transaction, beside the change it counts (a photo ended, verdicts
written, the job submitted). The counters move in one statement there, so no crash leaves a change
made but not counted (the job would never end), and a job that ends claims its notification there,
so of its racing callers exactly one queues it. `after_commit` queues what `advance` asked for once
the caller has committed: a step queued earlier could run before the state it needs exists, and a
crash between the commit and the queueing leaves the step to the reconciler.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import BulkJob
from webapp.providers import registry
from webapp.queue import START_BULK_MODERATION, enqueue_job_step, enqueue_notification
from webapp.services.jobs import job_counters, notifications
from webapp.services.jobs.job_counters import Move


@dataclass(frozen=True)
class Advance:
    """What must follow the commit of one job's advance."""

    job_id: uuid.UUID
    notify: bool = False  # this advance claimed the job's notification
    start_provider: bool = False  # every photo is processed: the job-level provider may start


def advance(
    job_id: uuid.UUID, moves: Mapping[Move, int] | None = None, processed: int = 0, submitted: bool = False
) -> Advance:
    """In the caller's transaction: move the job's counters (images from one status to another, and
    `processed` more photos; the job ends in that statement if nothing is left), claim its
    notification if it ended, and say what must follow the commit.

    Counting a photo processed, or submitting a job (`submitted`) whose photos are all processed
    already, is what lets a job-level provider start; a verdict alone never does.
    """
    job_counters.move(job_id, moves or {}, processed)
    notify = notifications.claim(job_id)
    start = bool(processed or submitted) and _ready_to_start(job_id)
    return Advance(job_id, notify, start)


def after_commit(*advances: Advance) -> None:
    """Once the caller has committed: queue what its advances asked for."""
    for step in advances:
        if step.start_provider:
            start_provider(step.job_id)
        if step.notify:
            enqueue_notification(step.job_id)


def start_provider(job_id: uuid.UUID) -> None:
    """Queue the start of the job's job-level analysis (every photo of it is processed)."""
    enqueue_job_step(START_BULK_MODERATION, job_id, "bulk-start")


def _ready_to_start(job_id: uuid.UUID) -> bool:
    """Whether the job's provider works per job and the job is running with every photo processed."""
    ready = select(BulkJob.id).where(
        BulkJob.id == job_id,
        BulkJob.provider.in_(registry.names_of(registry.Kind.PER_JOB)),
        BulkJob.status.in_(job_counters.RUNNING),
        BulkJob.processed >= BulkJob.total,
    )
    return db.session.scalar(ready) is not None
