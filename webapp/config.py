"""Settings, read from the environment, with embedded defaults that run on one machine.

With no configuration at all photogate keeps its SQLite database, its Redis socket and its
stored photos under the Flask instance folder. Production sets DATABASE_URL, REDIS_URL and
S3_BUCKET (see README.md for every setting).
"""

import os
import secrets
from pathlib import Path


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _flag(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def persistent_secret_key(instance_path: Path) -> str:
    """The embedded mode's secret key: generated once and kept in the instance folder."""
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def database_url(url: str) -> str:
    """Pin PostgreSQL URLs to psycopg2, the driver we ship (SQLAlchemy 2.1 would pick psycopg 3)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url.removeprefix(prefix)
    return url


def settings_from_environment(instance_path: Path) -> dict:
    """Every setting photogate reads, with its embedded default."""
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY") or persistent_secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url(
            os.environ.get("DATABASE_URL", f"sqlite:///{instance_path / 'photogate.db'}")
        ),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": os.environ.get("REDIS_URL", f"unix://{instance_path / 'redis.sock'}"),
        "QUEUE_NAME": os.environ.get("QUEUE_NAME", "photos"),
        "S3_BUCKET": os.environ.get("S3_BUCKET", ""),
        "S3_ENDPOINT_URL": os.environ.get("S3_ENDPOINT_URL") or None,
        "S3_REGION": os.environ.get("S3_REGION") or os.environ.get("AWS_REGION") or "us-east-1",
        "STORAGE_DIR": os.environ.get("STORAGE_DIR", str(instance_path / "storage")),
        "IMAGE_URL_EXPIRES": _int("IMAGE_URL_EXPIRES", 300),
        "MAX_FILE_BYTES": _int("MAX_FILE_BYTES", 50 * 1024 * 1024),
        "MAX_CONTENT_LENGTH": _int("MAX_REQUEST_BYTES", 1024 * 1024 * 1024),
        "MAX_IMAGE_PIXELS": _int("MAX_IMAGE_PIXELS", 89_478_485),
        "PROCESSED_MAX_SIDE": _int("PROCESSED_MAX_SIDE", 2048),
        "THUMBNAIL_SIDE": _int("THUMBNAIL_SIDE", 320),
        "JOB_TIMEOUT": _int("JOB_TIMEOUT", 300),
        "JOB_RETRY_INTERVALS": [
            int(s) for s in os.environ.get("JOB_RETRY_INTERVALS", "5,30,120").split(",") if s.strip()
        ],
        "MODERATION_PROVIDER": os.environ.get("MODERATION_PROVIDER", "local"),
        "MODERATION_REJECT": os.environ.get("MODERATION_REJECT", ""),
        "MODERATION_FLAG": os.environ.get("MODERATION_FLAG", ""),
        "MODERATION_MIN_CONFIDENCE": float(os.environ.get("MODERATION_MIN_CONFIDENCE", 50)),
        "REKOGNITION_REGION": os.environ.get("REKOGNITION_REGION") or None,
        "REKOGNITION_ENDPOINT_URL": os.environ.get("REKOGNITION_ENDPOINT_URL") or None,
        "BULK_POLL_SECONDS": _int("BULK_POLL_SECONDS", 30),
        "MAX_BATCH_FILES": _int("MAX_BATCH_FILES", 10_000),
        "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE", False),
        "SESSION_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        # CSRF is checked in one before_request hook, and only for cookie-authenticated requests.
        "WTF_CSRF_CHECK_DEFAULT": False,
    }
