"""A bulk job's counters: how many of its images are pending, approved, flagged, rejected, failed,
and how many of its photos are processed.

They change in single UPDATE statements relative to the stored values, so concurrent workers never
lose an increment, and the job reaches its terminal status in the same statement that leaves it
with no image pending and every photo processed. Only a deletion sets them afresh, counted from
the job's images.
"""

import uuid
from collections import Counter
from collections.abc import Mapping

from sqlalchemy import and_, case, cast, func, literal, select, update

from webapp.extensions import db
from webapp.models import BulkJob, BulkJobImage, JobStatus, ModerationStatus, PhotoSession, VirtualImage
from webapp.models.bulk_jobs import TERMINAL_JOB_STATUSES
from webapp.models.types import utcnow

# Which job counter each moderation outcome moves into.
OUTCOME_COUNTERS = {
    ModerationStatus.APPROVED: "approved",
    ModerationStatus.FLAGGED: "flagged",
    ModerationStatus.REJECTED: "rejected",
    ModerationStatus.ERROR: "failed",
}
RUNNING = (JobStatus.QUEUED, JobStatus.PROCESSING)
# An image leaving one status for another: `(before, after)`.
Move = tuple[ModerationStatus, ModerationStatus]


def status_value(value: JobStatus):
    """A job status as a bound value of the column's own enum type (PostgreSQL's CASE needs it)."""
    return cast(literal(value.value), BulkJob.__table__.c.status.type)


def move(job_id: uuid.UUID, moves: Mapping[Move, int], processed: int = 0) -> None:
    """Move images between counters (each move is `(before, after)`: pending to a verdict, or a
    person changing one), and count processed photos; a running job ends in the statement that
    leaves it with no image pending and every photo processed. An ended job keeps its status.

    The caller commits. One statement, so concurrent workers cannot lose an update.
    """
    delta: Counter[ModerationStatus] = Counter()
    for (before, after), count in moves.items():
        delta[after] += count
        delta[before] -= count
    increments = {
        counter: getattr(BulkJob, counter) + delta[status] for status, counter in OUTCOME_COUNTERS.items()
    }
    remaining = BulkJob.pending + delta[ModerationStatus.PENDING]
    any_failed = (BulkJob.failed + delta[ModerationStatus.ERROR] + BulkJob.refused) > 0
    running = BulkJob.status.in_(RUNNING)
    finished = and_(running, remaining <= 0, BulkJob.processed + processed >= BulkJob.total)
    db.session.execute(
        update(BulkJob)
        .where(BulkJob.id == job_id)
        .values(
            **increments,
            pending=remaining,
            processed=BulkJob.processed + processed,
            status=case(
                # Only a job whose provider failed carries an error (bulk_moderation.fail_pending).
                (and_(finished, BulkJob.error.is_not(None)), status_value(JobStatus.FAILED)),
                (and_(finished, any_failed), status_value(JobStatus.COMPLETED_WITH_ERRORS)),
                (finished, status_value(JobStatus.COMPLETED)),
                (running, status_value(JobStatus.PROCESSING)),
                else_=BulkJob.status,
            ),
            completed_at=case((finished, utcnow()), else_=BulkJob.completed_at),
        )
    )


def count_reopened(job_id: uuid.UUID, was_processed: bool, before: ModerationStatus | None) -> None:
    """A photo of the job goes back to work (an admin requeued it): it is pending again, and an
    ended job runs again and will announce its end again (caller commits)."""
    values = {
        "pending": BulkJob.pending + (1 if before else 0),
        "processed": BulkJob.processed - (1 if was_processed else 0),
        "status": case(
            (BulkJob.status.in_(TERMINAL_JOB_STATUSES), status_value(JobStatus.PROCESSING)),
            else_=BulkJob.status,
        ),
        "completed_at": None,
        "notification_claimed_at": None,
    }
    if before:
        counter = OUTCOME_COUNTERS[before]
        values[counter] = getattr(BulkJob, counter) - 1
    db.session.execute(update(BulkJob).where(BulkJob.id == job_id).values(values))


def recount(job_id: uuid.UUID) -> None:
    """Counters from the job's images as they are now (after a deletion): the verdicts in one grouped
    query, the processed photos in another."""
    job = db.session.get(BulkJob, job_id)
    statuses = dict(
        db.session.execute(
            select(VirtualImage.moderation_status, func.count())
            .join(BulkJobImage, BulkJobImage.virtual_image_id == VirtualImage.id)
            .where(BulkJobImage.job_id == job_id)
            .group_by(VirtualImage.moderation_status)
        ).all()
    )
    processed = db.session.scalar(
        select(func.count())
        .select_from(BulkJobImage)
        .join(VirtualImage, VirtualImage.id == BulkJobImage.virtual_image_id)
        .join(PhotoSession, PhotoSession.session_id == VirtualImage.session_id)
        .where(BulkJobImage.job_id == job_id, PhotoSession.status.in_(["completed", "failed"]))
    )
    job.total = sum(statuses.values())
    job.pending = statuses.get(ModerationStatus.PENDING, 0)
    for status, counter in OUTCOME_COUNTERS.items():
        setattr(job, counter, statuses.get(status, 0))
    job.processed = processed
