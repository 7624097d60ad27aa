"""Settings, read from the environment, with embedded defaults that run on one machine.

With no configuration at all photogate keeps its SQLite database, its Redis socket and its
stored photos under the Flask instance folder. Production sets DATABASE_URL, REDIS_URL and
S3_BUCKET (see README.md for every setting).
"""

import os
import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from webapp.signing import new_secret


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _ints(name: str, default: str) -> list[int]:
    return [int(part) for part in os.environ.get(name, default).split(",") if part.strip()]


def _flag(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def persistent_secret(instance_path: Path, name: str, make: Callable[[], str]) -> str:
    """An embedded-mode secret: generated once and kept in the instance folder."""
    path = instance_path / name
    if not path.exists():
        instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def database_url(url: str) -> str:
    """Pin PostgreSQL URLs to psycopg2, the driver we ship (SQLAlchemy 2.1 would pick psycopg 3)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url.removeprefix(prefix)
    return url


def engine_options(url: str) -> dict:
    """Check pooled connections before use (a restarted database), and give up connecting in seconds."""
    options: dict = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        options["connect_args"] = {"connect_timeout": 5}
    return options


def settings_from_environment(instance_path: Path) -> dict:
    """Every setting photogate reads, with its embedded default."""
    return (
        _backend_settings(instance_path)
        | _image_settings()
        | _worker_settings()
        | _moderation_settings()
        | _notification_settings(instance_path)
        | _security_settings()
    )


def _backend_settings(instance_path: Path) -> dict:
    """Where photogate keeps its data and work: database, queue, storage, the secret key."""
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY")
        or persistent_secret(instance_path, "secret_key", lambda: secrets.token_urlsafe(48)),
        "SQLALCHEMY_DATABASE_URI": database_url(
            os.environ.get("DATABASE_URL", f"sqlite:///{instance_path / 'photogate.db'}")
        ),
        "REDIS_URL": os.environ.get("REDIS_URL", f"unix://{instance_path / 'redis.sock'}"),
        "QUEUE_NAME": os.environ.get("QUEUE_NAME", "photos"),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        "S3_BUCKET": os.environ.get("S3_BUCKET", ""),
        "S3_ENDPOINT_URL": os.environ.get("S3_ENDPOINT_URL") or None,
        "S3_REGION": os.environ.get("S3_REGION") or os.environ.get("AWS_REGION") or "us-east-1",
        "STORAGE_DIR": os.environ.get("STORAGE_DIR", str(instance_path / "storage")),
        # With S3, clients may send originals straight to the bucket (services/photos/direct_uploads.py).
        "DIRECT_UPLOADS": _flag("DIRECT_UPLOADS", True),
        "DIRECT_UPLOAD_EXPIRES": _int("DIRECT_UPLOAD_EXPIRES", 600),
        "DIRECT_UPLOAD_ABANDON_AFTER": _int("DIRECT_UPLOAD_ABANDON_AFTER", 3600),
    }


def _image_settings() -> dict:
    """What an upload may be, and what is made of it."""
    return {
        "IMAGE_URL_EXPIRES": _int("IMAGE_URL_EXPIRES", 300),
        "MAX_FILE_BYTES": _int("MAX_FILE_BYTES", 50 * 1024 * 1024),
        "MAX_CONTENT_LENGTH": _int("MAX_REQUEST_BYTES", 1024 * 1024 * 1024),
        "MAX_IMAGE_PIXELS": _int("MAX_IMAGE_PIXELS", 89_478_485),
        "MAX_IMAGE_FRAMES": _int("MAX_IMAGE_FRAMES", 1000),
        "MAX_ANIMATION_PIXELS": _int("MAX_ANIMATION_PIXELS", 500_000_000),
        "VALIDATION_MEMORY_BYTES": _int("VALIDATION_MEMORY_BYTES", 128 * 1024 * 1024),
        # Enough for every image within MAX_IMAGE_PIXELS: the largest decode, an 89 MP WebP, holds ~1.6 GB.
        "PROCESSING_MEMORY_BYTES": _int("PROCESSING_MEMORY_BYTES", 2 * 1024**3),
        "PROCESSING_CPU_SECONDS": float(os.environ.get("PROCESSING_CPU_SECONDS", 60)),
        "ANIMATION_SAMPLE_FRAMES": _int("ANIMATION_SAMPLE_FRAMES", 16),
        "PROCESSED_MAX_SIDE": _int("PROCESSED_MAX_SIDE", 2048),
        "THUMBNAIL_SIDE": _int("THUMBNAIL_SIDE", 320),
    }


def _worker_settings() -> dict:
    """How workers run jobs, retry them, and how the reconciler finds lost work."""
    return {
        "JOB_TIMEOUT": _int("JOB_TIMEOUT", 300),
        # A killed worker's key expires after WORKER_TTL; RQ notices its job within about a minute.
        "WORKER_TTL": _int("WORKER_TTL", 25),
        "JOB_MONITORING_INTERVAL": _int("JOB_MONITORING_INTERVAL", 5),
        "MAINTENANCE_INTERVAL": _int("MAINTENANCE_INTERVAL", 10),
        # A work horse runs this many jobs (fewer if one fails) before a fresh one is forked.
        "JOBS_PER_WORK_HORSE": _int("JOBS_PER_WORK_HORSE", 200),
        "RECONCILE_EVERY": _int("RECONCILE_EVERY", 30),
        "RECONCILE_AFTER": _int("RECONCILE_AFTER", 60),
        "JOB_RETRY_INTERVALS": _ints("JOB_RETRY_INTERVALS", "5,30,120"),
    }


def _moderation_settings() -> dict:
    """Providers, thresholds, hash banks, batches and the external service."""
    return {
        "MODERATION_PROVIDER": os.environ.get("MODERATION_PROVIDER", "local"),
        "MODERATION_REJECT": os.environ.get("MODERATION_REJECT", ""),
        "MODERATION_FLAG": os.environ.get("MODERATION_FLAG", ""),
        # A second provider for photos whose first answer falls in the band (providers/cascade.py).
        "MODERATION_ESCALATE": os.environ.get("MODERATION_ESCALATE", "").strip(),
        "MODERATION_ESCALATE_BAND": os.environ.get("MODERATION_ESCALATE_BAND", ""),
        "MODERATION_MIN_CONFIDENCE": float(os.environ.get("MODERATION_MIN_CONFIDENCE", 50)),
        "REVIEW_REJECTS_BANK": os.environ.get("REVIEW_REJECTS_BANK", "Rejected in review"),
        # How long a moderator holds the images they were given before others may take them.
        "REVIEW_CLAIM_SECONDS": _int("REVIEW_CLAIM_SECONDS", 300),
        "REKOGNITION_REGION": os.environ.get("REKOGNITION_REGION") or None,
        "REKOGNITION_ENDPOINT_URL": os.environ.get("REKOGNITION_ENDPOINT_URL") or None,
        "BULK_POLL_SECONDS": _int("BULK_POLL_SECONDS", 30),
        "MAX_BATCH_FILES": _int("MAX_BATCH_FILES", 10_000),
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "EXTERNAL_MODERATION_URL": os.environ.get("EXTERNAL_MODERATION_URL", ""),
        "EXTERNAL_MODERATION_SECRET": os.environ.get("EXTERNAL_MODERATION_SECRET", ""),
        "EXTERNAL_MODERATION_DEADLINE": _int("EXTERNAL_MODERATION_DEADLINE", 3600),
        "EXTERNAL_RETRY_INTERVALS": _ints("EXTERNAL_RETRY_INTERVALS", "10,60,300,900"),
        "MODERATION_WEBHOOK_SECRET": os.environ.get("MODERATION_WEBHOOK_SECRET", ""),
        "WEBHOOK_MAX_BYTES": _int("WEBHOOK_MAX_BYTES", 64 * 1024),
    }


def _notification_settings(instance_path: Path) -> dict:
    """Signed job.completed events and where they go."""
    return {
        "NOTIFICATION_SECRET": os.environ.get("NOTIFICATION_SECRET")
        or persistent_secret(instance_path, "notification_secret", new_secret),
        # How long a user's previous signing secret still signs their events after a rotation.
        "NOTIFICATION_SECRET_GRACE": _int("NOTIFICATION_SECRET_GRACE", 24 * 3600),
        "JOB_CALLBACK_URL": os.environ.get("JOB_CALLBACK_URL", ""),
        "NOTIFICATION_RETRY_INTERVALS": _ints("NOTIFICATION_RETRY_INTERVALS", "10,60,300,1800,7200"),
    }


def _security_settings() -> dict:
    """Cookies, proxies, the metrics token, rate limits and CSRF."""
    return {
        "ALLOW_PRIVATE_CALLBACKS": _flag("ALLOW_PRIVATE_CALLBACKS", False),
        "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE", False),
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": timedelta(days=_int("REMEMBER_DAYS", 14)),
        # How many proxies in front of the web server set X-Forwarded-For/-Proto (0: none, trust no header).
        "PROXY_COUNT": _int("PROXY_COUNT", 0),
        # Empty: /metrics answers anyone, as on the embedded instance; set, it needs this bearer token.
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN", "").strip(),
        "LOGIN_FAILURES_PER_ACCOUNT": os.environ.get("LOGIN_FAILURES_PER_ACCOUNT", "5/minute;20/hour"),
        "LOGIN_FAILURES_PER_ADDRESS": os.environ.get("LOGIN_FAILURES_PER_ADDRESS", "20/minute;100/hour"),
        "TOKEN_FAILURES_PER_ADDRESS": os.environ.get("TOKEN_FAILURES_PER_ADDRESS", "20/minute;200/hour"),
        "UPLOADS_PER_USER": os.environ.get("UPLOADS_PER_USER", "1200/minute"),
        "UPLOAD_MEGABYTES_PER_USER": os.environ.get("UPLOAD_MEGABYTES_PER_USER", "6000/minute"),
        "WTF_CSRF_TIME_LIMIT": None,
        # CSRF is checked in one before_request hook, and only for cookie-authenticated requests.
        "WTF_CSRF_CHECK_DEFAULT": False,
    }
