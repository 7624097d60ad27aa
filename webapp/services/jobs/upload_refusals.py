"""Files of a batch the server refused at upload, kept with why so the job's page can name them.

Nothing of a refused file is stored, so its row holds all there is: its name, its place in the
upload order and the error it was answered. A file stored later at the same place (a retry that got
through) ends the refusal, and the job's `refused` counter is always the number of rows.
"""

import uuid
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, update

from webapp.errors import AppError
from webapp.extensions import db
from webapp.models import BulkJob, UploadRefusal


@dataclass(frozen=True)
class Refusal:
    filename: str
    upload_order: int
    error: AppError


def record(job_id: uuid.UUID, refused: list[Refusal], stored_orders: list[int]) -> None:
    """Keep this request's refusals, end those its stored files replace, and count what remains;
    commits. Nothing to write when nothing was refused, before or now."""
    # The job row stays locked until the commit: two requests of one job count one after the other.
    held = db.session.execute(
        select(BulkJob.refused).where(BulkJob.id == job_id).with_for_update()
    ).scalar_one()
    if not refused and not held:
        db.session.commit()
        return
    orders = [refusal.upload_order for refusal in refused] + stored_orders
    db.session.execute(
        delete(UploadRefusal).where(UploadRefusal.job_id == job_id, UploadRefusal.upload_order.in_(orders))
    )
    if refused:
        db.session.execute(
            insert(UploadRefusal),
            [
                {
                    "job_id": job_id,
                    "upload_order": refusal.upload_order,
                    "filename": refusal.filename,
                    "error_code": refusal.error.code,
                    "message": refusal.error.message,
                }
                for refusal in refused
            ],
        )
    remaining = select(func.count()).where(UploadRefusal.job_id == job_id).scalar_subquery()
    db.session.execute(update(BulkJob).where(BulkJob.id == job_id).values(refused=remaining))
    db.session.commit()


def of_job(job_id: uuid.UUID, limit: int) -> list[UploadRefusal]:
    """The job's first `limit` refused files, in upload order."""
    query = select(UploadRefusal).where(UploadRefusal.job_id == job_id).order_by(UploadRefusal.upload_order)
    return list(db.session.scalars(query.limit(limit)))
