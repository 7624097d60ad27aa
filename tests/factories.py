"""Test data as plain functions: users, images, uploads, and waiting for the workers."""

import io
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask
from PIL import Image

from webapp.extensions import db
from webapp.models import PhotoSession
from webapp.services.users import create_user, issue_token


@dataclass(frozen=True)
class Person:
    id: uuid.UUID
    email: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_user(app: Flask, email: str, *, admin: bool = False) -> Person:
    password = f"pw-{uuid.uuid4().hex[:8]}"
    with app.app_context():
        user = create_user(email, password=password, is_admin=admin)
        return Person(user.id, user.email, password, issue_token(user))


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (640, 480), color="teal", **save) -> bytes:
    """A small, valid image in `fmt`, made on the fly."""
    mode = "RGBA" if fmt in {"PNG", "WEBP"} and save.pop("alpha", False) else "RGB"
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, fmt, **save)
    return buffer.getvalue()


def upload(client, headers: dict[str, str], data: bytes, filename: str = "photo.jpg"):
    """POST one file to the single-photo API."""
    return client.post(
        "/api/photos/upload",
        headers=headers,
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def wait_for(check: Callable[[], object], timeout: float = 30, interval: float = 0.1):
    """Poll `check` until it returns something truthy; fail the test if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def session_status(app: Flask, session_id: str) -> str | None:
    with app.app_context():
        session = db.session.get(PhotoSession, uuid.UUID(session_id))
        return session.status.value if session else None


def wait_until_terminal(app: Flask, session_id: str, timeout: float = 60) -> str:
    return wait_for(
        lambda: (status := session_status(app, session_id)) in {"completed", "failed"} and status, timeout
    )
