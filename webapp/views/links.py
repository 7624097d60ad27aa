"""Image links as pages and API answers hand them out: for the address the request came to."""

from flask import request

from webapp.models import S3Image
from webapp.services import photos


def image_url(image: S3Image) -> str:
    """A short-lived link to `image`, valid from wherever this request reached the app."""
    return photos.image_url(image, request.url_root.rstrip("/"))
