"""Photos waiting for a person's decision, and what the database then holds about them."""

import io
from datetime import UTC, datetime

from sqlalchemy import select, update

from tests.support.factories import Person, image_bytes
from webapp.extensions import db
from webapp.models import ModerationReview, ModerationStatus, User, VirtualImage
from webapp.services.photos import uploads

EXPLICIT = [
    {"Name": "Explicit Nudity", "ParentName": "", "Confidence": 93.4, "TaxonomyLevel": 1},
    {
        "Name": "Exposed Male Genitalia",
        "ParentName": "Explicit Nudity",
        "Confidence": 61.2,
        "TaxonomyLevel": 2,
    },
]

# Under every threshold of the default policy (Explicit: flag at 50, reject at 80): what an approved
# landscape may carry.
UNDER_THRESHOLDS = [
    {"Name": "Explicit", "ParentName": "", "Confidence": 39.0, "TaxonomyLevel": 1},
    {"Name": "Explicit Nudity", "ParentName": "Explicit", "Confidence": 39.0, "TaxonomyLevel": 2},
    {
        "Name": "Exposed Buttocks or Anus",
        "ParentName": "Explicit Nudity",
        "Confidence": 25.0,
        "TaxonomyLevel": 3,
    },
]


def waiting_photo(
    app, owner: Person, filename: str, status: str = "flagged", labels=None, error: str | None = None
) -> uploads.AcceptedPhoto:
    """A photo left for a person to decide, as a model would have left it (no model involved)."""
    with app.app_context():
        owner_row = db.session.get(User, owner.id)
        placement = uploads.Placement("local")
        accepted = uploads.accept_photo(owner_row, io.BytesIO(image_bytes()), filename, placement)
        image = db.session.get(VirtualImage, accepted.virtual_image_id)
        image.moderation_status = ModerationStatus(status)
        image.rekognition_data = {"ModerationLabels": EXPLICIT if labels is None else labels}
        image.moderation_error = error
        db.session.commit()
        return accepted


def image_state(app, virtual_image_id) -> VirtualImage:
    with app.app_context():
        image = db.session.get(VirtualImage, virtual_image_id)
        db.session.expunge(image)
        return image


def reviews_of(app, virtual_image_id) -> list[ModerationReview]:
    with app.app_context():
        query = select(ModerationReview).where(ModerationReview.virtual_image_id == virtual_image_id)
        rows = list(db.session.scalars(query.order_by(ModerationReview.created_at)))
        db.session.expunge_all()
        return rows


def claim_lapses(app, virtual_image_id, moment: datetime) -> None:
    """Move the end of the claim on the image to `moment`: a past one, and the claim has lapsed."""
    with app.app_context():
        db.session.execute(
            update(VirtualImage).where(VirtualImage.id == virtual_image_id).values(claimed_until=moment)
        )
        db.session.commit()


def claimed_until(app, virtual_image_id) -> datetime:
    moment = image_state(app, virtual_image_id).claimed_until
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
