"""Storage on local disk, with the same key layout as S3, for the embedded single-machine mode."""

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import BinaryIO

from flask import current_app, url_for
from itsdangerous import BadSignature, URLSafeSerializer

from webapp.storage import ObjectMissing, StorageUnavailable

SIGNING_SALT = "photogate.media"
# Links for another service (the external moderation provider): they need no login.
SHARED_SALT = "photogate.media.shared"


class LocalStorage:
    bucket = "local"

    def __init__(self, root: str):
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        """The file behind `key`; refuses keys that would leave the storage root."""
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise ValueError(f"storage key outside the root: {key!r}")
        return path

    def put(self, key: str, body: bytes | BinaryIO, content_type: str) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write beside the target and rename: a reader never sees half an object.
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
            if isinstance(body, bytes):
                tmp.write(body)
            else:
                shutil.copyfileobj(body, tmp)
        os.replace(tmp.name, path)

    def get(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError as exc:
            raise ObjectMissing(key) from exc
        except OSError as exc:
            raise StorageUnavailable(str(exc)) from exc

    def delete_prefix(self, prefix: str) -> None:
        shutil.rmtree(self.path(prefix.rstrip("/")), ignore_errors=True)

    def delete_keys(self, keys: list[str]) -> None:
        for key in keys:
            self.path(key).unlink(missing_ok=True)

    def url(self, key: str, expires: int) -> str:
        token = media_signer().dumps([key, int(time.time()) + expires])
        return url_for("media.serve", key=key, token=token, _external=True)

    def shared_url(self, key: str, expires: int, base_url: str) -> str:
        token = media_signer(SHARED_SALT).dumps([key, int(time.time()) + expires])
        return f"{base_url}/media/shared/{key}?token={token}"

    def ping(self) -> None:
        if not os.access(self.root, os.W_OK):
            raise StorageUnavailable(f"{self.root} is not writable")


def media_signer(salt: str = SIGNING_SALT) -> URLSafeSerializer:
    """Signs local-disk image URLs (the key and an expiry time) so they work only for a short time."""
    return URLSafeSerializer(current_app.secret_key, salt=salt)


def signed_key_is_valid(key: str, token: str, salt: str = SIGNING_SALT) -> bool:
    """Whether `token` was issued for `key` (for this kind of link) and has not expired."""
    try:
        signed_key, expires_at = media_signer(salt).loads(token)
    except (BadSignature, ValueError, TypeError):
        return False
    return signed_key == key and time.time() <= expires_at
