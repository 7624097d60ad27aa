"""Every verdict is written here, and nowhere else.

An outcome — a provider's result, a vendor's callback, an error, a cancel, a person's decision —
is written to one or many images in one guarded UPDATE. A machine's outcome lands only on an image
still `pending`, in the statement that checks it, so a result that arrives twice (a retried job, a
replayed callback) is written and counted once; a person's decision lands whatever was there. The
same call decides `is_nsfw` and moves the jobs on (`job_progress`: their counters, and the
notification of a job that ends). Each machine outcome written is an event of the audit log (a
`decision`, or a `cancel` when an admin ended the image's job), in the same transaction; a person's
decisions are logged by the review that makes them.
"""

import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text, update

from webapp.extensions import db
from webapp.models import AuditKind, BulkJobImage, ModerationStatus, User, VirtualImage
from webapp.models.types import utcnow
from webapp.providers import ModerationResult, registry
from webapp.providers.policy import Policy
from webapp.services.jobs import job_counters, job_progress
from webapp.services.jobs.job_counters import Move
from webapp.services.moderation import audit

NSFW = frozenset({ModerationStatus.FLAGGED, ModerationStatus.REJECTED})
SEVERITY = [ModerationStatus.APPROVED, ModerationStatus.FLAGGED, ModerationStatus.REJECTED]
MANUAL = "manual"


@dataclass(frozen=True)
class Outcome:
    """What decides an image: its new status and what comes with it."""

    status: ModerationStatus
    result: ModerationResult | None = None
    error: str | None = None
    reviewer: User | None = None
    # A vendor callback's time of sending: a later callback may not be overtaken by an older one.
    event_at: datetime | None = None
    # What decided it without a provider: a bank entry it matched, or an earlier image with its bytes.
    matched_entry_id: uuid.UUID | None = None
    duplicate_of_id: uuid.UUID | None = None
    # Who the audit log names when the result does not say: the provider that could not moderate the
    # image, or the person whose action ended its moderation (an admin cancelling its job).
    actor: User | str | None = None

    @property
    def is_nsfw(self) -> bool | None:
        """Decided here once: flagged or rejected is NSFW; an image with no verdict is unknown."""
        if self.status in (ModerationStatus.PENDING, ModerationStatus.ERROR):
            return None
        return self.status in NSFW

    def columns(self) -> dict:
        """The virtual_images columns this outcome sets."""
        values = {"moderation_status": self.status, "is_nsfw": self.is_nsfw, "updated_at": utcnow()}
        if self.reviewer is None:
            # A person's decision stands beside what the machine said (or why it could not).
            values["moderation_error"] = self.error
        if self.result is not None:
            values |= {
                "rekognition_data": self.result.answer,
                "model_version": self.result.model_version,
                "source": self.result.source,
            }
        if self.reviewer is not None:
            # Decided: nobody holds it any more, and it is no longer the admins' to decide.
            values |= {"reviewed_by_id": self.reviewer.id, "reviewed_at": utcnow(), "source": MANUAL}
            values |= {"claimed_by_id": None, "claimed_until": None}
            values |= {"escalated_at": None, "escalation_note": None}
        if self.event_at is not None:
            values["external_event_at"] = self.event_at
        if self.matched_entry_id is not None:
            values["matched_entry_id"] = self.matched_entry_id
        if self.duplicate_of_id is not None:
            values["duplicate_of_id"] = self.duplicate_of_id
        return values


def judged(
    result: ModerationResult, policy: Policy, floor: ModerationStatus = ModerationStatus.APPROVED
) -> Outcome:
    """The outcome of a provider's result: the policy's verdict over its labels, never milder than
    `floor` (a vendor's own verdict)."""
    return Outcome(max(floor, policy.verdict(result.labels), key=SEVERITY.index), result)


def failed(reason: str, actor: User | str = audit.SYSTEM) -> Outcome:
    """The image could not be moderated: `error`, never approved by default. `actor` is the provider
    that failed, the person who ended its moderation, or the system."""
    return Outcome(ModerationStatus.ERROR, error=reason, actor=actor)


def record_result(image_id: uuid.UUID, result: ModerationResult) -> ModerationStatus | None:
    """A provider's answer for one image, through the policy; the verdict, or None if already decided."""
    outcome = judged(result, registry.policy())
    return outcome.status if record({image_id: outcome}) else None


def record_error(image_id: uuid.UUID, reason: str, actor: str = audit.SYSTEM) -> bool:
    """The image could not be moderated (`actor`: the provider that failed, or the system); False if
    it had been decided already."""
    return bool(record({image_id: failed(reason, actor)}))


def record(
    outcomes: Mapping[uuid.UUID, Outcome], job_id: uuid.UUID | None = None
) -> Counter[ModerationStatus]:
    """A machine's outcomes, each written over its image only if that is still pending.

    Returns how many of each status were written; the rest had been decided already. `job_id` says
    every image is of that job — a bulk write, done set-based on PostgreSQL with no lookup per
    image — and settles the job even if nothing was written (its last images may have been
    decided before).
    """
    if job_id is not None and _set_based(outcomes):
        written = _write_set_based(outcomes)
        _settle({job_id: Counter({(ModerationStatus.PENDING, status): n for status, n in written.items()})})
        return written
    by_image = _write_each(outcomes)
    moves = {image_id: (ModerationStatus.PENDING, status) for image_id, status in by_image.items()}
    per_job = _per_job(moves)
    if job_id is not None:
        per_job.setdefault(job_id, Counter())
    _settle(per_job)
    return Counter(by_image.values())


def overrule(images: list[VirtualImage], outcome: Outcome) -> None:
    """A person's decision over images the caller has locked, whatever they said before."""
    moves = {image.id: (image.moderation_status, outcome.status) for image in images}
    db.session.execute(update(VirtualImage).where(VirtualImage.id.in_(moves)).values(outcome.columns()))
    _settle(_per_job(moves))


def reopen(image: VirtualImage, photo_reopened: bool, admin: User) -> bool:
    """`admin` requeued the image's photo: an unreviewed `error` waits again (a `reopen` in the audit
    log), and the job's counters follow (its photo counts as unprocessed again if it had failed).
    Commits; whether anything reopened.
    """
    before = None
    if image.moderation_status == ModerationStatus.ERROR and image.reviewed_at is None:
        reopened = db.session.execute(
            update(VirtualImage)
            .where(VirtualImage.id == image.id, VirtualImage.moderation_status == ModerationStatus.ERROR)
            .values(Outcome(ModerationStatus.PENDING).columns())
        ).rowcount
        if reopened:
            before = ModerationStatus.ERROR
            audit.record(AuditKind.REOPEN, admin, image.id, before.value, ModerationStatus.PENDING.value)
    if image.job_entry and (photo_reopened or before):
        job_counters.count_reopened(image.job_entry.job_id, photo_reopened, before)
    db.session.commit()
    return bool(photo_reopened or before)


def _per_job(moves: Mapping[uuid.UUID, Move]) -> dict[uuid.UUID, Counter[Move]]:
    """The moves of each job the images belong to (images of no job move no counter)."""
    per_job: dict[uuid.UUID, Counter[Move]] = defaultdict(Counter)
    if moves:
        rows = db.session.execute(
            select(BulkJobImage.virtual_image_id, BulkJobImage.job_id).where(
                BulkJobImage.virtual_image_id.in_(list(moves))
            )
        )
        for image_id, job_id in rows:
            per_job[job_id][moves[image_id]] += 1
    return per_job


def _settle(per_job: Mapping[uuid.UUID, Counter[Move]]) -> None:
    """Move each job on in the verdicts' transaction; commit, then queue what that calls for."""
    steps = [job_progress.advance(job_id, job_moves) for job_id, job_moves in per_job.items()]
    db.session.commit()
    job_progress.after_commit(*steps)


def _set_based(outcomes: Mapping[uuid.UUID, Outcome]) -> bool:
    """Whether one UPDATE … FROM unnest(…) can write them: many machine outcomes, on PostgreSQL
    (the embedded SQLite mode has no arrays to unnest; its batches are small)."""
    plain = all(outcome.columns().keys() <= _SET_BASED_COLUMNS for outcome in outcomes.values())
    return plain and len(outcomes) > 1 and db.engine.dialect.name == "postgresql"


_SET_BASED_COLUMNS = {
    "moderation_status",
    "is_nsfw",
    "updated_at",
    "moderation_error",
    "rekognition_data",
    "model_version",
    "source",
}


def _write_each(outcomes: Mapping[uuid.UUID, Outcome]) -> dict[uuid.UUID, ModerationStatus]:
    """Write each outcome over its image if still pending, one statement each, and its audit event;
    the statuses written."""
    written = {}
    for image_id, outcome in outcomes.items():
        if db.session.execute(
            update(VirtualImage)
            .where(VirtualImage.id == image_id, VirtualImage.moderation_status == ModerationStatus.PENDING)
            .values(outcome.columns())
        ).rowcount:
            written[image_id] = outcome.status
            audit.record_outcome(outcome, image_id)
    return written


def _write_set_based(outcomes: Mapping[uuid.UUID, Outcome]) -> Counter[ModerationStatus]:
    """Thousands of outcomes in one UPDATE … FROM unnest(…), whose rows written feed the INSERT of
    their audit events: one round trip instead of two per image."""
    rows = [_row(image_id, outcome) for image_id, outcome in outcomes.items()]
    columns = dict(zip(_ROW, (list(column) for column in zip(*rows, strict=True)), strict=True))
    written = db.session.execute(
        text(
            """
            WITH written AS (
                UPDATE virtual_images AS v
                   SET moderation_status = CAST(r.status AS moderation_status), is_nsfw = r.is_nsfw,
                       rekognition_data = CAST(r.data AS jsonb), model_version = r.model_version,
                       source = r.source, moderation_error = r.error, updated_at = now()
                  FROM unnest(CAST(:ids AS uuid[]), CAST(:statuses AS text[]), CAST(:nsfw AS boolean[]),
                              CAST(:data AS text[]), CAST(:versions AS text[]), CAST(:sources AS text[]),
                              CAST(:errors AS text[]), CAST(:kinds AS text[]), CAST(:actors AS text[]),
                              CAST(:actor_ids AS uuid[]), CAST(:notes AS text[]))
                       AS r(id, status, is_nsfw, data, model_version, source, error,
                            kind, actor, actor_id, note)
                 WHERE v.id = r.id AND v.moderation_status = 'pending'
             RETURNING r.id, r.status, r.kind, r.actor, r.actor_id, r.note
            )
            INSERT INTO audit_events (id, at, kind, actor_id, actor, virtual_image_id, before, after, note)
            SELECT gen_random_uuid(), now(), w.kind, w.actor_id, w.actor, w.id, 'pending', w.status, w.note
              FROM written AS w
         RETURNING after
            """
        ),
        columns,
    )
    return Counter(ModerationStatus(status) for status in written.scalars())


_ROW = (
    "ids",
    "statuses",
    "nsfw",
    "data",
    "versions",
    "sources",
    "errors",
    "kinds",
    "actors",
    "actor_ids",
    "notes",
)


def _row(image_id: uuid.UUID, outcome: Outcome) -> tuple:
    """An outcome as the values of _ROW: the image's columns, then its audit event's."""
    result = outcome.result
    actor = audit.machine_actor(outcome)
    person = actor if isinstance(actor, User) else None
    return (
        str(image_id),
        outcome.status.value,
        outcome.is_nsfw,
        json.dumps(result.answer) if result else None,
        result.model_version if result else None,
        result.source if result else None,
        outcome.error,
        audit.outcome_kind(outcome).value,
        person.email if person else actor,
        str(person.id) if person else None,
        audit.machine_note(outcome),
    )
