"""Photos as phones and cameras write them: multi-picture JPEGs, HEIC and AVIF with their transforms."""

import hashlib
import io
import urllib.request

import pytest
from PIL import Image

from tests.support.factories import (
    marked,
    multi_picture_jpeg,
    red_corner,
    upload,
    wait_until_terminal,
)
from webapp.imaging import UploadLimits, decode_budget, inspect_upload, make_derivatives
from webapp.testing.images import heic_bytes

LIMITS = UploadLimits(max_pixels=10**8, max_frames=100, decode_budget=decode_budget(64 * 2**20))
GAIN_MAP = Image.new("L", (100, 75), 128)


def decoded(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def avif_bytes(im: Image.Image, orientation: int) -> bytes:
    """An AVIF whose irot/imir transforms say `orientation` (Pillow writes them from EXIF)."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    im.save(buffer, "AVIF", exif=exif)
    return buffer.getvalue()


PHONE_PHOTOS = {
    "stereo-mpo": lambda orientation: multi_picture_jpeg(
        marked((400, 200)), Image.new("RGB", (400, 200), "green"), orientation
    ),
    "gain-map-mpf": lambda orientation: multi_picture_jpeg(marked((400, 200)), GAIN_MAP, orientation),
    "ultra-hdr": lambda orientation: multi_picture_jpeg(
        marked((400, 200)), GAIN_MAP, orientation, gain_map_xmp=True
    ),
    "heic": lambda orientation: heic_bytes(marked((400, 200)), orientation),
    "avif": lambda orientation: avif_bytes(marked((400, 200)), orientation),
}
STORED_AS = {
    "stereo-mpo": ("jpg", "image/jpeg"),
    "gain-map-mpf": ("jpg", "image/jpeg"),
    "ultra-hdr": ("jpg", "image/jpeg"),
    "heic": ("heic", "image/heic"),
    "avif": ("avif", "image/avif"),
}
# EXIF orientation -> (upright size of a 400x200 picture, where its red corner ends up).
ORIENTATIONS = {
    1: ((400, 200), "top_left"),
    2: ((400, 200), "top_right"),
    3: ((400, 200), "bottom_right"),
    5: ((200, 400), "top_left"),
    6: ((200, 400), "top_right"),
    8: ((200, 400), "bottom_left"),
}


@pytest.mark.parametrize("orientation", list(ORIENTATIONS))
@pytest.mark.parametrize("kind", list(PHONE_PHOTOS))
def test_phone_photos_are_accepted_upright_from_their_primary_picture(kind, orientation):
    data = PHONE_PHOTOS[kind](orientation)
    upright, corner = ORIENTATIONS[orientation]

    info = inspect_upload(io.BytesIO(data), LIMITS)
    derivatives = make_derivatives(data)

    assert (info.extension, info.content_type) == STORED_AS[kind]
    assert (info.width, info.height) == upright
    assert decoded(derivatives.processed.data).size == upright
    for rendition in (derivatives.processed, derivatives.thumbnail_original):
        im = decoded(rendition.data)
        assert (im.width > im.height) == (upright[0] > upright[1])
        assert red_corner(im) == corner  # the primary picture, never the second eye or the gain map


@pytest.mark.parametrize("kind", ["heic", "avif", "ultra-hdr"])
def test_metadata_of_phone_formats_is_stripped(kind):
    source = PHONE_PHOTOS[kind](6)

    derivatives = make_derivatives(source)

    for rendition in (derivatives.processed, derivatives.thumbnail_original):
        im = decoded(rendition.data)
        assert not im.getexif()
        assert not {"exif", "xmp", "icc_profile"} & set(im.info)
        assert b"hdrgm" not in rendition.data


@pytest.mark.parametrize("kind", ["heic", "ultra-hdr", "stereo-mpo"])
def test_a_phone_photo_completes_through_the_api_and_its_original_is_kept_byte_for_byte(
    app, client, user, worker, kind
):
    data = PHONE_PHOTOS[kind](6)

    response = upload(client, user.headers, data, f"IMG_0001.{STORED_AS[kind][0]}")

    assert response.status_code == 202
    session_id = response.get_json()["session_id"]
    assert wait_until_terminal(app, session_id) == "completed"
    photo = client.get(f"/api/photos/{session_id}", headers=user.headers).get_json()
    images = {image["kind"]: image for image in photo["images"]}
    original = images["original"]
    assert original["key"] == f"{session_id}/original.{STORED_AS[kind][0]}"
    assert (original["content_type"], original["width"], original["height"]) == (
        STORED_AS[kind][1],
        200,
        400,
    )
    with urllib.request.urlopen(original["url"], timeout=10) as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == hashlib.sha256(data).hexdigest()
    with urllib.request.urlopen(images["processed"]["url"], timeout=10) as processed:
        im = decoded(processed.read())
    assert (im.format, im.size, red_corner(im)) == ("AVIF", (200, 400), "top_right")
    assert photo["moderation"]["status"] == "approved"
