"""Security headers on every response, set here and nowhere else.

The Content-Security-Policy lets pages run scripts, apply styles, fetch and submit forms only to
this origin, with no inline code of any kind, and load images from this origin and, with S3
storage, from the origin its presigned links point at; with direct uploads, pages may send files
to that origin too. A view may set any of these headers itself.
"""

import logging
from typing import NamedTuple
from urllib.parse import urlsplit

from botocore.exceptions import NoCredentialsError
from flask import Flask, Response

from webapp.services.photos import direct_uploads
from webapp.storage import get_storage

HSTS = "max-age=31536000; includeSubDomains"
# Presigning is local work, no request to S3; every key of the bucket gets the same origin.
PROBE_KEY = "content-security-policy-probe"

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Add the headers, computed once for `app`, to each of its responses that lacks them."""
    headers = security_headers(app)

    def add_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response

    app.after_request(add_headers)


def security_headers(app: Flask) -> dict[str, str]:
    """The headers every response of `app` carries unless its view set them."""
    origins = storage_origins(app)
    headers = {
        "Content-Security-Policy": content_security_policy(origins.images, origins.uploads),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
    }
    if app.config["SESSION_COOKIE_SECURE"]:
        # Secure cookies mean the site is served over HTTPS; only then may it promise HTTPS for a year.
        headers["Strict-Transport-Security"] = HSTS
    return headers


def content_security_policy(image_origins: list[str], upload_origins: list[str] = ()) -> str:
    """Everything from this origin only, nothing inline; images also from `image_origins`, and files
    sent to `upload_origins`."""
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": " ".join(["'self'", *image_origins]),
        "connect-src": " ".join(["'self'", *upload_origins]),
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {sources}" for name, sources in directives.items())


class StorageOrigins(NamedTuple):
    images: list[str]
    uploads: list[str]


def storage_origins(app: Flask) -> StorageOrigins:
    """The origins besides this one that pages load images from and send files to: S3's, when photos
    are stored there (files only when clients may send them straight to the bucket).

    boto3 picks virtual-hosted or path-style links by bucket name, region and endpoint, so each
    origin is read off a link it presigns rather than rebuilt from the configuration.
    """
    if not app.config["S3_BUCKET"]:
        return StorageOrigins([], [])  # local disk: signed /media/ links on this origin
    with app.app_context():
        storage = get_storage()
        direct = direct_uploads.offered()
    try:
        images = [_origin(storage.url(PROBE_KEY, 60))]
        uploads = [_origin(storage.presigned_post(PROBE_KEY, "image/jpeg", 1, 60)["url"])] if direct else []
    except NoCredentialsError:
        # Without credentials no link can be made at all, so there is no origin to allow.
        log.warning("no AWS credentials: no S3 origin is allowed for images or uploads")
        return StorageOrigins([], [])
    return StorageOrigins(images, uploads)


def _origin(url: str) -> str:
    link = urlsplit(url)
    return f"{link.scheme}://{link.netloc}"
