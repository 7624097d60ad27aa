"""One storage interface, two implementations (S3 and local disk) with the same key layout.

Every object of a photo lives under `{session_id}/`; job files under `jobs/{job_id}/`.
The implementation is chosen by configuration: S3 when S3_BUCKET is set, else local disk.
"""

from typing import BinaryIO, Protocol

from flask import Flask, current_app


class StorageUnavailable(Exception):
    """The storage backend did not answer; the caller should try again later."""


class ObjectMissing(Exception):
    """No object is stored under the key."""


class Storage(Protocol):
    bucket: str

    def put(self, key: str, body: bytes | BinaryIO, content_type: str) -> None:
        """Store `body` under `key`, replacing any object already there."""

    def get(self, key: str) -> bytes:
        """The bytes stored under `key`; ObjectMissing when there are none."""

    def delete_prefix(self, prefix: str) -> None:
        """Delete every object whose key starts with `prefix`."""

    def delete_keys(self, keys: list[str]) -> None:
        """Delete these objects (missing ones are fine)."""

    def url(self, key: str, expires: int) -> str:
        """A URL the browser can load the object from, valid for `expires` seconds."""

    def shared_url(self, key: str, expires: int, base_url: str) -> str:
        """A URL another service can load the object from without logging in, for `expires` seconds."""

    def ping(self) -> None:
        """Raise StorageUnavailable unless the backend answers."""


def init_storage(app: Flask) -> None:
    """Create the process's one storage client from the app's configuration."""
    if app.config["S3_BUCKET"]:
        from webapp.storage.s3 import S3Storage

        storage: Storage = S3Storage(
            bucket=app.config["S3_BUCKET"],
            endpoint_url=app.config["S3_ENDPOINT_URL"],
            region=app.config["S3_REGION"],
        )
    else:
        from webapp.storage.local import LocalStorage

        storage = LocalStorage(app.config["STORAGE_DIR"])
    app.extensions["photogate.storage"] = storage


def get_storage() -> Storage:
    return current_app.extensions["photogate.storage"]
