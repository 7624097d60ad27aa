"""Security headers on every response, set here and nowhere else.

The Content-Security-Policy lets pages run scripts, apply styles, fetch and submit forms only to
this origin, with no inline code of any kind, and load images from this origin and, with S3
storage, from the origin its presigned links point at. A view may set any of these headers itself.
"""

import logging
from urllib.parse import urlsplit

from botocore.exceptions import NoCredentialsError
from flask import Flask, Response

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
    headers = {
        "Content-Security-Policy": content_security_policy(image_origins(app)),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
    }
    if app.config["SESSION_COOKIE_SECURE"]:
        # Secure cookies mean the site is served over HTTPS; only then may it promise HTTPS for a year.
        headers["Strict-Transport-Security"] = HSTS
    return headers


def content_security_policy(image_origins: list[str]) -> str:
    """Everything from this origin only, nothing inline, images also from `image_origins`."""
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": " ".join(["'self'", *image_origins]),
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {sources}" for name, sources in directives.items())


def image_origins(app: Flask) -> list[str]:
    """The origins besides this one that pages load images from: S3's, when photos are stored there.

    boto3 picks virtual-hosted or path-style links by bucket name, region and endpoint, so the
    origin is read off a link it presigns rather than rebuilt from the configuration.
    """
    if not app.config["S3_BUCKET"]:
        return []  # local disk: signed /media/ links on this origin
    with app.app_context():
        storage = get_storage()
    try:
        link = urlsplit(storage.url(PROBE_KEY, 60))
    except NoCredentialsError:
        # Without credentials no image link can be made at all, so there is no origin to allow.
        log.warning("no AWS credentials: no S3 origin is allowed for images")
        return []
    return [f"{link.scheme}://{link.netloc}"]
