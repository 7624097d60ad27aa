"""Rate limits (Flask-Limiter), counted in the Redis photogate already uses.

Counters live in Redis, not in process memory, so a limit holds across every gunicorn worker and
machine. Limited: failed logins per account and per address, failed API-token authentications per
address, and uploads per user. Only failures count against the login and token limits, but once
one is exhausted even the right password waits.
"""

import time

from flask import Flask, current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import parse_many
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


class TooManyRequests(AppError):
    code = "rate_limited"
    status = 429
    message = "Too many attempts; wait a little and try again."

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many attempts; try again in {retry_after} s.")
        self.retry_after = retry_after


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


def upload_limits() -> str:
    return current_app.config["UPLOADS_PER_USER"]


def limit_uploads(view):
    """Decorate an upload view: every upload endpoint counts against one per-user limit."""
    return limiter.shared_limit(upload_limits, scope="uploads", key_func=uploader)(view)


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
