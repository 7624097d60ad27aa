"""Links as pages and API answers hand them out, for the address the request came to: short-lived
image links, and where the API answers a job."""

from flask import request, url_for

from webapp.models import BulkJob, S3Image
from webapp.services.photos import photos


def image_url(image: S3Image) -> str:
    """A short-lived link to `image`, valid from wherever this request reached the app."""
    return photos.image_url(image, request.url_root.rstrip("/"))


def job_url(job: BulkJob) -> str:
    """Where the API answers `job` (GET): the address a client keeps to look for it."""
    return url_for("bulk_api.get_job", job_id=job.id, _external=True)
