"""Rate limits (Flask-Limiter), counted in the Redis photogate already uses.

Counters live in Redis, not in process memory, so a limit holds across every gunicorn worker and
machine. Limited: failed logins per account and per address, failed API-token authentications per
address, and the files and bytes each user uploads. Only failures count against the login and
token limits, but once one is exhausted even the right password waits.
"""

import math
import time
from functools import wraps
from typing import NoReturn

from flask import Flask, current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import RateLimitItem, parse_many
from limits.storage import Storage
from limits.strategies import RateLimiter

from webapp.errors import AppError


class AppLimiter(Limiter):
    """Flask-Limiter, counting in the storage of the app at hand.

    Flask-Limiter keeps one storage per extension object, so a second app in the same process (the
    test suite builds several, on different Redis databases) would take over the first one's.
    """

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        app.extensions["photogate.rate_limiter"] = self._limiter

    @property
    def limiter(self) -> RateLimiter:
        return current_app.extensions["photogate.rate_limiter"]

    @property
    def storage(self) -> Storage:
        return self.limiter.storage


limiter = AppLimiter(key_func=get_remote_address)


# Uploaded bytes are counted in whole megabytes: a moving window keeps one entry per unit counted.
MEGABYTE = 1_000_000


class TooManyRequests(AppError):
    code = "rate_limited"
    status = 429
    message = "Too many attempts; wait a little and try again."

    def __init__(self, retry_after: int, reason: str = "Too many attempts") -> None:
        super().__init__(f"{reason}; try again in {retry_after} s.")
        self.retry_after = retry_after


class OverUploadLimit(AppError):
    """One request carries more than an upload limit lets through in a whole window: waiting never helps."""

    code = "over_upload_limit"
    status = 413


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", storage_uri(app.config["REDIS_URL"]))
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)


def storage_uri(redis_url: str) -> str:
    """The `limits` storage URI of a redis-py URL (a unix socket is `redis+unix://` there)."""
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url.removeprefix("unix://")
    return redis_url


def login_failed(_response) -> bool:
    """Whether the login this request tried failed (the login view says so in `g`)."""
    return g.get("login_failed", False)


def login_email() -> str:
    """The account a login tries, normalised, as the key of the per-account limit."""
    return request.form.get("email", "").strip().lower()


def uploader() -> str:
    """The user uploading, as the key of the per-user upload limit."""
    return str(current_user.id) if current_user.is_authenticated else get_remote_address()


def login_limits_per_account() -> str:
    return current_app.config["LOGIN_FAILURES_PER_ACCOUNT"]


def login_limits_per_address() -> str:
    return current_app.config["LOGIN_FAILURES_PER_ADDRESS"]


def limit_uploads(view):
    """Decorate an upload view: a user out of upload allowance is refused before the body is read.

    The view itself counts the request with `count_uploaded_files` once the body is parsed.
    """

    @wraps(view)
    def wrapper(*args, **kwargs):
        _enforce_upload_limits(files=1, size=request.content_length or 0, count=False)
        return view(*args, **kwargs)

    return wrapper


def count_uploaded_files() -> None:
    """Count every file of the parsed request and their bytes against the uploader's limits.

    Called before any file is checked, so refused and malformed files count too: they cost us as
    much to read. Raises TooManyRequests (429, Retry-After) or OverUploadLimit (413).
    """
    files = [file for _name, file in request.files.items(multi=True)]
    _enforce_upload_limits(
        files=max(1, len(files)), size=sum(_size(file.stream) for file in files), count=True
    )


def count_declared_files(files: int, size: int) -> None:
    """Count files a client is about to send straight to storage, and their declared bytes, against the
    uploader's limits: storage holds them for us as surely as if they came through the web."""
    _enforce_upload_limits(files=max(1, files), size=size, count=True)


def _size(stream) -> int:
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    return size


def _enforce_upload_limits(files: int, size: int, *, count: bool) -> None:
    """Refuse unless every upload limit has room for `files` files of `size` bytes; count them if asked."""
    user = uploader()
    charges = _upload_charges(files, size)
    for item, scope, cost, unit in charges:
        if cost > item.amount:
            raise OverUploadLimit(
                f"The request carries {cost:,} {unit}; the upload limit is {item.amount:,} {unit} "
                f"per {_period(item)}. Send them in smaller requests."
            )
        if not limiter.limiter.test(item, scope, user, cost=cost):
            _refuse(item, scope, user, unit)
    if count:
        for item, scope, cost, unit in charges:
            if not limiter.limiter.hit(item, scope, user, cost=cost):
                _refuse(item, scope, user, unit)  # another request of the same user took the room


def _upload_charges(files: int, size: int) -> list[tuple[RateLimitItem, str, int, str]]:
    """Each upload limit with what this request counts against it: (limit, scope, cost, unit)."""
    megabytes = max(1, math.ceil(size / MEGABYTE))
    config = current_app.config
    return [(item, "upload-files", files, "files") for item in parse_many(config["UPLOADS_PER_USER"])] + [
        (item, "upload-megabytes", megabytes, "MB")
        for item in parse_many(config["UPLOAD_MEGABYTES_PER_USER"])
    ]


def _refuse(item: RateLimitItem, scope: str, user: str, unit: str) -> NoReturn:
    reset_at, _remaining = limiter.limiter.get_window_stats(item, scope, user)
    wait = max(1, math.ceil(reset_at - time.time()))
    raise TooManyRequests(wait, f"Upload limit reached ({item.amount:,} {unit} per {_period(item)})")


def _period(item: RateLimitItem) -> str:
    return item.GRANULARITY.name if item.multiples == 1 else f"{item.multiples} {item.GRANULARITY.name}s"


def check_token_failures() -> None:
    """Refuse a token authentication from an address that has failed too often lately."""
    address = get_remote_address()
    for item in parse_many(current_app.config["TOKEN_FAILURES_PER_ADDRESS"]):
        if not limiter.limiter.test(item, "token-failures", address):
            reset_at, _remaining = limiter.limiter.get_window_stats(item, "token-failures", address)
            raise TooManyRequests(max(1, int(reset_at - time.time())))


def count_token_failure() -> None:
    """Count a failed token authentication against its address."""
    address = get_remote_address()
    for item in parse_many(current_app.config["TOKEN_FAILURES_PER_ADDRESS"]):
        limiter.limiter.hit(item, "token-failures", address)


def retry_after() -> int:
    """Seconds until the limit this request broke lets a request through again."""
    limit = limiter.current_limit
    return max(1, int(limit.reset_at - time.time())) if limit else 60
