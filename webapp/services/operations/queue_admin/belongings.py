"""What an RQ job works for (its photo, its bulk job), from the meta webapp/queue.py gives each job."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from rq.job import Job
from sqlalchemy import or_, select

from webapp.extensions import db
from webapp.models import BulkJobImage, VirtualImage
from webapp.queue import redis_connection
from webapp.services.operations.queue_admin import BATCH

# The meta keys webapp/queue.py sets: a session id, a virtual image id, a bulk job id. A job queued
# without them (before they existed) is shown without a link.
KINDS = ("photo", "virtual_image", "bulk_job")

Target = tuple[str, uuid.UUID]


@dataclass(frozen=True)
class Belonging:
    """What a job works for: a photo (its session), a bulk job, or both."""

    session_id: str | None = None
    bulk_job_id: str | None = None


def belongings_of(job_ids: Iterable[str]) -> dict[str, Belonging]:
    """For each job id of ours, the photo and the bulk job it works for, from its meta and the database."""
    targets = _targets(list(job_ids))
    photos = _photos({key for kind, key in targets.values() if kind != "bulk_job"})
    return {job_id: _belonging(kind, key, photos) for job_id, (kind, key) in targets.items()}


def _targets(job_ids: list[str]) -> dict[str, Target]:
    """(kind, id) of what each job works for: one pipelined round trip per BATCH jobs."""
    found = {}
    for start in range(0, len(job_ids), BATCH):
        batch = job_ids[start : start + BATCH]
        jobs = Job.fetch_many(batch, connection=redis_connection())
        for job_id, job in zip(batch, jobs, strict=True):
            if target := _target_in_meta(job.meta if job else {}):
                found[job_id] = target
    return found


def _target_in_meta(meta: dict) -> Target | None:
    for kind in KINDS:
        # Every queue of this Redis is shown, other apps' too: a meta value that is no id is not ours.
        try:
            return kind, uuid.UUID(str(meta[kind]))
        except (KeyError, ValueError):
            continue
    return None


def _belonging(kind: str, key: uuid.UUID, photos: dict[uuid.UUID, Belonging]) -> Belonging:
    if kind == "bulk_job":
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
