"""What a batch test reads: the job a batch page works on, what that job holds, and what a request sent."""

import re
import uuid

from playwright.sync_api import Page, Route
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import BulkJobImage, VirtualImage


def sent_filename(route: Route) -> str:
    """The filename of the file a multipart request carries."""
    return re.search(rb'filename="([^"]+)"', route.request.post_data_buffer or b"").group(1).decode()


def job_id_of(page: Page) -> str:
    """The job the page works on: it puts its id in its own address once the job exists."""
    page.wait_for_url(re.compile(r"job="))
    return re.search(r"job=([0-9a-f-]{36})", page.url).group(1)


def job_contents(app, job_id: str) -> list[tuple[int, str]]:
    """(upload order, filename) of every image the job holds."""
    with app.app_context():
        return list(
            db.session.execute(
                select(BulkJobImage.upload_order, VirtualImage.original_filename)
                .join(VirtualImage, VirtualImage.id == BulkJobImage.virtual_image_id)
                .where(BulkJobImage.job_id == uuid.UUID(job_id))
                .order_by(BulkJobImage.upload_order)
            ).all()
        )
