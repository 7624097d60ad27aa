"""Storage on local disk, with the same key layout as S3, for the embedded single-machine mode."""

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from itsdangerous import BadSignature, URLSafeSerializer

from webapp.storage import LinkedFile, LinkNotValid, ObjectMissing, StorageUnavailable

# Image links are capabilities, as S3 presigned URLs are: the signed key and expiry alone let
# whoever holds the link load that one object, with no login, until it expires.
SIGNING_SALT = "photogate.media"


class LocalStorage:
    bucket = "local"
    # Every byte comes through the web: there is no bucket for a client to send to.
    accepts_direct_uploads = False

    def __init__(self, root: str, secret_key: str, link_path: str):
        """Objects under the folder `root`; links to them under `link_path`, signed with `secret_key`."""
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.link_path = link_path.rstrip("/")
        self.signer = URLSafeSerializer(secret_key, salt=SIGNING_SALT)

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

    def put_all(self, objects: dict[str, tuple[bytes, str]]) -> None:
        for key, (body, content_type) in objects.items():
            self.put(key, body, content_type)

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

    def url(self, key: str, expires: int, base_url: str = "", disposition: str | None = None) -> str:
        # Signed with the key, as S3 signs its response-content-disposition: no one can rename a download.
        signed = [key, int(time.time()) + expires] + ([disposition] if disposition else [])
        return f"{base_url}{self.link_path}/{quote(key)}?token={self.signer.dumps(signed)}"

    def linked_file(self, key: str, token: str) -> LinkedFile:
        try:
            signed_key, expires_at, *disposition = self.signer.loads(token)
            lifetime = int(expires_at - time.time())
        except (BadSignature, ValueError, TypeError) as exc:
            raise LinkNotValid(key) from exc
        if signed_key != key or lifetime < 0:
            raise LinkNotValid(key)
        path = self.path(key)
        if not path.is_file():
            raise ObjectMissing(key)
        return LinkedFile(path, lifetime, disposition[0] if disposition else None)

    def ping(self) -> None:
        if not os.access(self.root, os.W_OK):
            raise StorageUnavailable(f"{self.root} is not writable")
