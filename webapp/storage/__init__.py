"""One storage interface, two implementations (S3 and local disk) with the same key layout.

Every object of a photo lives under `{session_id}/`; job files under `jobs/{job_id}/`.
The implementation is chosen by configuration: S3 when S3_BUCKET is set, else local disk.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import Flask, current_app

# Where this app serves the links of storage that has no URLs of its own (local disk).
LINK_PATH = "/media"


class StorageUnavailable(Exception):
    """The storage backend did not answer; the caller should try again later."""


class ObjectMissing(Exception):
    """No object is stored under the key."""


class LinkNotValid(Exception):
    """The link was not issued for this key, or has expired."""


class NotServedHere(Exception):
    """The backend's links go to the backend itself (S3's presigned URLs), never through this app."""


@dataclass(frozen=True)
class LinkedFile:
    """What a link this app serves loads: the object's file, the seconds the link has left, and the
    Content-Disposition the link was made with, if any."""

    path: Path
    lifetime: int
    disposition: str | None = None


class Storage(Protocol):
    bucket: str
    # Whether clients can send originals to the backend themselves (S3Storage's presigned POSTs).
    accepts_direct_uploads: bool

    def put(self, key: str, body: bytes | BinaryIO, content_type: str) -> None:
        """Store `body` under `key`, replacing any object already there."""

    def put_all(self, objects: dict[str, tuple[bytes, str]]) -> None:
        """Store each object (key: bytes and content type), replacing any already there."""

    def get(self, key: str) -> bytes:
        """The bytes stored under `key`; ObjectMissing when there are none."""

    def delete_prefix(self, prefix: str) -> None:
        """Delete every object whose key starts with `prefix`."""

    def delete_keys(self, keys: list[str]) -> None:
        """Delete these objects (missing ones are fine)."""

    def url(self, key: str, expires: int, base_url: str = "", disposition: str | None = None) -> str:
        """A URL the browser can load the object from, valid for `expires` seconds.

        Links this app serves itself start with `base_url`, the app's own address (no trailing slash).
        The object is answered with `disposition` as its Content-Disposition, when given.
        """

    def linked_file(self, key: str, token: str) -> LinkedFile:
        """What a link to `key` signed with `token` loads.

        LinkNotValid for a forged or expired link, ObjectMissing when the object is gone,
        NotServedHere when the backend's links never come to this app.
        """

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

        storage = LocalStorage(app.config["STORAGE_DIR"], app.config["SECRET_KEY"], LINK_PATH)
    app.extensions["photogate.storage"] = storage


def get_storage() -> Storage:
    return current_app.extensions["photogate.storage"]
