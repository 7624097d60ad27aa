"""Test data as plain functions: users, images, uploads, and waiting for the workers."""

import io
import random
import struct
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask
from PIL import ExifTags, Image, ImageDraw

from webapp.extensions import db
from webapp.models import PhotoSession, Role
from webapp.services.accounts.users import create_user, issue_token


@dataclass(frozen=True)
class Person:
    id: uuid.UUID
    email: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_user(app: Flask, email: str, *, role: Role = Role.USER) -> Person:
    password = f"pw-{uuid.uuid4().hex[:8]}"
    with app.app_context():
        user = create_user(email, password=password, role=role)
        return Person(user.id, user.email, password, issue_token(user))


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (640, 480), color="teal", **save) -> bytes:
    """A small, valid image in `fmt`, made on the fly."""
    mode = "RGBA" if fmt in {"PNG", "WEBP"} and save.pop("alpha", False) else "RGB"
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, fmt, **save)
    return buffer.getvalue()


def scene(seed: int, size: tuple[int, int] = (1600, 1200)) -> Image.Image:
    """A photo-like picture: a gradient with shapes placed by `seed` (detailed enough for PDQ to
    hash with full quality, unlike a plain colour)."""
    rng = random.Random(seed)
    im = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(im)
    for _ in range(25):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        box = (x, y, x + rng.randrange(60, 500), y + rng.randrange(60, 500))
        colour = tuple(rng.randrange(256) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
    return im


def encoded(im: Image.Image, image_format: str = "PNG", **params) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, image_format, **params)
    return buffer.getvalue()


def marked(size: tuple[int, int]) -> Image.Image:
    """A blue picture with a red block in its top-left corner, a quarter of each side."""
    im = Image.new("RGB", size, "blue")
    ImageDraw.Draw(im).rectangle((0, 0, size[0] // 4, size[1] // 4), fill="red")
    return im


def red_corner(im: Image.Image) -> str:
    """Which corner of the picture is red: how a test tells which way up a marked picture is."""
    width, height = im.size
    corners = {
        "top_left": (2, 2),
        "top_right": (width - 3, 2),
        "bottom_left": (2, height - 3),
        "bottom_right": (width - 3, height - 3),
    }
    red = [name for name, xy in corners.items() if im.convert("RGB").getpixel(xy)[0] > 160]
    return red[0] if len(red) == 1 else f"unclear: {red}"


def multi_picture_jpeg(
    im: Image.Image, second: Image.Image, orientation: int = 1, gain_map_xmp: bool = False
):
    """A JPEG followed by a second picture in an MPF index: a stereo pair, or a phone's gain map.

    With `gain_map_xmp` the primary carries the Ultra HDR XMP (`hdrgm:Version`) that Android phones write.
    """
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    buffer = io.BytesIO()
    im.save(buffer, "MPO", save_all=True, append_images=[second], exif=exif, quality=90)
    data = buffer.getvalue()
    if not gain_map_xmp:
        return data
    xmp = (
        b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf="
        b"'http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description xmlns:hdrgm="
        b"'http://ns.adobe.com/hdr-gain-map/1.0/' hdrgm:Version=\"1.0\"/></rdf:RDF></x:xmpmeta>"
    )
    # Right after SOI: the MPF offsets count from the MPF header, which moves with the picture data.
    return data[:2] + b"\xff\xe1" + struct.pack(">H", len(xmp) + 2) + xmp + data[2:]


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
