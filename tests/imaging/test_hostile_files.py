"""Files made to break decoders: each failure class of the real-world corpus, generated here.

`bench/corpus.py` runs the corpus itself; these fixtures reproduce each class it found, so the
suite guards them without a copy of any corpus file.
"""

import io
import struct
import threading
import time
import zlib

import pytest
from PIL import Image, PngImagePlugin
from sqlalchemy import func, select

from tests.support.factories import (
    encoded,
    image_bytes,
    marked,
    multi_picture_jpeg,
    upload,
    wait_until_terminal,
)
from webapp.extensions import db
from webapp.imaging import CorruptImage, InvalidImage, UploadLimits, decode_budget, inspect_upload
from webapp.imaging.validation import DecodeBudget
from webapp.models import PhotoSession
from webapp.testing.images import heic_bytes

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def header(width: int = 8, height: int = 8, colour: int = 2) -> bytes:
    return chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0))


ROWS = zlib.compress((b"\0" + b"\x80" * 24) * 8)


def png(*chunks: bytes) -> bytes:
    return PNG_SIGNATURE + b"".join(chunks)


def noise_png_cut_in_half() -> bytes:
    noise = io.BytesIO()
    Image.effect_noise((64, 64), 60).save(noise, "PNG")
    data = noise.getvalue()
    return data[: len(data) // 2]


def gif_declaring(width: int, height: int) -> bytes:
    """A GIF whose screen and image descriptor declare the size, with a few bytes of pixels."""
    screen = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff"
    descriptor = b"," + struct.pack("<HHHHB", 0, 0, width, height, 0)
    return screen + descriptor + b"\x02\x02\x44\x01\x00;"


def jpeg_without_scan() -> bytes:
    """A JPEG's headers up to its start-of-scan header, with no compressed data (as ultrahdr.jpg)."""
    data = image_bytes("JPEG", (64, 64))
    start_of_scan = data.index(b"\xff\xda")
    (length,) = struct.unpack(">H", data[start_of_scan + 2 : start_of_scan + 4])
    return data[: start_of_scan + 2 + length]


def progressive_cut_short() -> bytes:
    noise = Image.effect_noise((128, 128), 60).convert("RGB")
    buffer = io.BytesIO()
    noise.save(buffer, "JPEG", progressive=True)
    return buffer.getvalue()[:-2000]


def bmp_declaring(width: int, height: int) -> bytes:
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 0, 0, 0, 0)
    return b"BM" + struct.pack("<IHHI", 54, 0, 0, 54) + info


REFUSED = [
    pytest.param(PNG_SIGNATURE + bytes(range(200)), 415, "unsupported_image", id="png-signature-then-noise"),
    pytest.param(
        png(header(), chunk(b"iCCP", b"ICC Profile\0\1" + b"x" * 40), chunk(b"IDAT", ROWS)),
        415,
        "unsupported_image",
        id="png-iccp-unknown-compression",
    ),
    pytest.param(gif_declaring(0, 32), 415, "unsupported_image", id="gif-zero-width"),
    pytest.param(bmp_declaring(524288, 524288), 415, "unsupported_image", id="bmp-declaring-2.7e11-pixels"),
    pytest.param(
        png(header(), chunk(b"cHRM", b"\0\0\0\1"), chunk(b"IDAT", ROWS), chunk(b"IEND", b"")),
        422,
        "corrupt_image",
        id="png-truncated-chrm",
    ),
    pytest.param(
        png(header(), struct.pack(">I", 1 << 20) + b"iCCP" + b"x" * 20),
        422,
        "corrupt_image",
        id="png-chunk-longer-than-file",
    ),
    pytest.param(
        png(header(), chunk(b"IDAT", ROWS[:-4] + bytes(4)), chunk(b"IEND", b"")),
        422,
        "corrupt_image",
        id="png-bad-adler",
    ),
    pytest.param(noise_png_cut_in_half(), 422, "corrupt_image", id="png-image-data-cut"),
    pytest.param(
        png(header(), chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"a" * 2**21)), chunk(b"IDAT", ROWS)),
        422,
        "corrupt_image",
        id="png-text-chunk-bomb",
    ),
    pytest.param(
        png(
            header(),
            chunk(b"acTL", struct.pack(">II", 1, 0)),
            chunk(b"IDAT", ROWS),
            chunk(b"fdAT", struct.pack(">I", 0) + ROWS),
            chunk(b"IEND", b""),
        ),
        422,
        "corrupt_image",
        id="apng-frames-without-frame-control",
    ),
    pytest.param(
        png(header(), chunk(b"acTL", struct.pack(">II", 0, 0)), chunk(b"IEND", b"")),
        422,
        "corrupt_image",
        id="apng-declaring-zero-frames",
    ),
    pytest.param(gif_declaring(65535, 65535), 422, "too_many_pixels", id="44-byte-gif-declaring-4.3-gpx"),
    pytest.param(progressive_cut_short(), 422, "corrupt_image", id="progressive-jpeg-cut-short"),
    pytest.param(jpeg_without_scan(), 422, "corrupt_image", id="jpeg-headers-without-scan-data"),
]


def _stored_sessions(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(PhotoSession))


@pytest.mark.parametrize(("data", "status", "code"), REFUSED)
def test_each_hostile_class_gets_a_clear_4xx_and_nothing_is_stored(
    app, client, user, bucket_keys, data, status, code
):
    response = upload(client, user.headers, data, "photo.png")

    assert (response.status_code, response.get_json()["error"]["code"]) == (status, code)
    assert response.get_json()["error"]["message"]
    assert _stored_sessions(app) == 0 and bucket_keys() == []


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(
            png(header(2, 2), struct.pack(">I", 1 << 30) + b"IDAT" + zlib.compress(bytes(14))),
            id="png-idat-length-says-1-gib",
        ),
        pytest.param(
            multi_picture_jpeg(marked((320, 240)), Image.new("RGB", (320, 240), "green"))[:-300],
            id="mpo-second-picture-cut-short",
        ),
    ],
)
def test_damage_outside_the_primary_picture_does_not_stop_the_photo(app, client, user, worker, data):
    response = upload(client, user.headers, data, "photo.jpg")

    assert response.status_code == 202
    assert wait_until_terminal(app, response.get_json()["session_id"]) == "completed"


@pytest.mark.parametrize(
    "raised",
    [
        KeyError("MPO"),
        ValueError("Tile offset cannot be negative"),
        OSError("decoder error -2"),
        SyntaxError("broken PNG file"),
        struct.error("unpack requires a buffer of 4 bytes"),
        EOFError(),
        IndexError("list index out of range"),
        TypeError("Missing dimensions"),
        NotImplementedError("Unimplemented pixel format"),
        RuntimeError("libheif: Invalid input"),
        MemoryError(),
        Image.DecompressionBombError("too big"),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_whatever_a_decoder_raises_becomes_an_invalid_image(monkeypatch, raised):
    def failing_load(self):
        raise raised

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", failing_load)
    limits = UploadLimits(10**6, 10, decode_budget(2**20))

    with pytest.raises(InvalidImage) as caught:
        inspect_upload(io.BytesIO(image_bytes("PNG", (8, 8))), limits)

    assert caught.value.status in (415, 422)


def test_too_many_frames_are_refused_before_decoding(app, client, user, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_IMAGE_FRAMES", 4)
    frames = [Image.new("RGB", (16, 16), colour) for colour in ("red", "green", "blue", "white", "black")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])

    response = upload(client, user.headers, buffer.getvalue(), "animation.gif")

    assert response.status_code == 422
    assert response.get_json()["error"] == {
        "code": "too_many_frames",
        "message": "The image has more than 4 frames; the limit is 4.",
    }


def test_a_small_file_of_many_large_flat_frames_is_refused_before_any_frame_is_walked(
    app, client, user, monkeypatch
):
    monkeypatch.setitem(app.config, "MAX_ANIMATION_PIXELS", 10_000_000)
    frames = [Image.new("P", (2000, 1000), index) for index in range(6)]  # 12 MP in flat frames
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])

    response = upload(client, user.headers, buffer.getvalue(), "flat.gif")

    assert len(buffer.getvalue()) < 200_000
    assert response.status_code == 422
    assert response.get_json()["error"] == {
        "code": "animation_too_large",
        "message": "The animation has 6 frames of 2000x1000, 12 megapixels in all; the limit is 10.",
    }
    still = io.BytesIO()
    frames[0].save(still, "GIF")
    assert upload(client, user.headers, still.getvalue(), "one.gif").status_code == 202


def test_validation_decodes_only_what_fits_its_memory_budget():
    data = image_bytes("PNG", (100, 100))  # 40,000 bytes decoded

    roomy = inspect_upload(io.BytesIO(data), UploadLimits(10**6, 1, decode_budget(40_000)))
    tight = inspect_upload(io.BytesIO(data), UploadLimits(10**6, 1, decode_budget(39_999)))

    assert roomy.fully_decoded and not tight.fully_decoded
    # 128x128 4:2:0 checked at 1/8 scale: 1,024 bytes of output, and the 49,152 bytes of coefficients
    # a progressive decode keeps at full size.
    with pytest.raises(CorruptImage):
        inspect_upload(io.BytesIO(progressive_cut_short()), UploadLimits(10**6, 1, decode_budget(50_176)))


def test_concurrent_decodes_never_hold_more_than_the_budget():
    budget, held, peak, lock = DecodeBudget(100), [0], [0], threading.Lock()

    def decode() -> None:
        with budget.reserve(60):
            with lock:
                held[0] += 60
                peak[0] = max(peak[0], held[0])
            time.sleep(0.02)
            with lock:
                held[0] -= 60

    threads = [threading.Thread(target=decode) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert peak[0] == 60


def test_a_file_accepted_on_its_headers_that_the_worker_cannot_decode_ends_failed_with_a_reason(
    app, client, user, worker, monkeypatch
):
    monkeypatch.setitem(app.config, "VALIDATION_MEMORY_BYTES", 1024)
    tiny_claiming_big = png(header(4000, 3000, colour=6), chunk(b"IDAT", zlib.compress(bytes(100))))

    response = upload(client, user.headers, tiny_claiming_big, "huge.png")

    assert response.status_code == 202
    session_id = response.get_json()["session_id"]
    assert wait_until_terminal(app, session_id) == "failed"
    photo = client.get(f"/api/photos/{session_id}", headers=user.headers).get_json()
    assert photo["error"] == (
        "The photo could not be processed: The image is damaged or incomplete and cannot be read."
    )
    assert photo["moderation"]["status"] == "error"


def damaged_coding(image_format: str) -> bytes:
    """A noisy picture as a HEIC or AVIF whose coded data starts with eight bytes of 0xFF: its
    container (sizes, frames) reads whole, its pixels never decode. (Cut short, either would fail
    to open: libheif and libavif check every item's extent against the file.)"""
    noise = Image.merge("RGB", [Image.effect_noise((256, 192), 60) for _ in range(3)])
    data = bytearray(heic_bytes(noise) if image_format == "HEIF" else encoded(noise, "AVIF"))
    coded = data.index(b"mdat") + 4
    data[coded : coded + 8] = b"\xff" * 8
    return bytes(data)


@pytest.mark.parametrize(("image_format", "name"), [("HEIF", "IMG_0001.HEIC"), ("AVIF", "cut.avif")])
def test_a_damaged_heic_or_avif_is_accepted_on_its_headers_and_fails_in_the_worker_with_a_reason(
    app, client, user, worker, image_format, name
):
    data = damaged_coding(image_format)
    info = inspect_upload(io.BytesIO(data), UploadLimits(10**8, 1, decode_budget(10**9)))
    assert (info.width, info.height, info.fully_decoded) == (256, 192, False)

    response = upload(client, user.headers, data, name)

    assert response.status_code == 202
    session_id = response.get_json()["session_id"]
    assert wait_until_terminal(app, session_id) == "failed"
    photo = client.get(f"/api/photos/{session_id}", headers=user.headers).get_json()
    assert photo["error"] == (
        "The photo could not be processed: The image is damaged or incomplete and cannot be read."
    )
    assert photo["moderation"]["status"] == "error"
