"""Photos and jobs with the verdicts and processing states a test asks for, set in the database.

No worker is involved: use them with the `parked` fixture, so no worker moves the photos on.
"""

import io
import uuid

from sqlalchemy import select

from tests.support.factories import Person, image_bytes
from tests.support.reviews import waiting_photo
from webapp.extensions import db
from webapp.models import BulkJobImage, ModerationStatus, PhotoSession, SessionStatus, VirtualImage
from webapp.services.photos.uploads import AcceptedPhoto


def photo_with(app, owner: Person, filename: str, verdict: str, state: str) -> AcceptedPhoto:
    """A single photo with this verdict and processing state."""
    accepted = waiting_photo(app, owner, filename, verdict, labels=[])
    with app.app_context():
        db.session.get(PhotoSession, accepted.session_id).status = SessionStatus(state)
        db.session.commit()
    return accepted


def job_with(app, owner: Person, photos: list[tuple[str, str, str]]) -> str:
    """A submitted job whose images have these (filename, verdict, state), in upload order; its id."""
    form = {"files": [(io.BytesIO(image_bytes("JPEG", (64, 48))), name) for name, _, _ in photos]}
    response = app.test_client().post(
        "/api/bulk-nsfw/upload", headers=owner.headers, data=form, content_type="multipart/form-data"
    )
    job_id = response.get_json()["job_id"]
    for upload_order, (_, verdict, state) in enumerate(photos):
        set_job_image(app, job_id, upload_order, verdict, state)
    return job_id


def set_job_image(app, job_id: str, upload_order: int, verdict: str, state: str) -> None:
    """Give a job's image, found by its upload order, this verdict and processing state."""
    with app.app_context():
        image, session = db.session.execute(
            select(VirtualImage, PhotoSession)
            .join(BulkJobImage, BulkJobImage.virtual_image_id == VirtualImage.id)
            .join(PhotoSession, PhotoSession.session_id == VirtualImage.session_id)
            .where(BulkJobImage.job_id == uuid.UUID(job_id), BulkJobImage.upload_order == upload_order)
        ).one()
        image.moderation_status, session.status = ModerationStatus(verdict), SessionStatus(state)
        db.session.commit()
