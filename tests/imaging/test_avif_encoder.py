"""The processed AVIF's encoder: SVT-AV1 from pillow-avif-plugin, aom where SVT-AV1 cannot encode."""

import io
import subprocess
import sys

import pytest
from PIL import Image, ImageDraw

from tests.support.factories import encoded, scene, upload, wait_until_terminal
from webapp.imaging import make_derivatives
from webapp.imaging.derivatives import AOM, SVT_AV1, AvifEncoder, encode_avif
from webapp.imaging.reading import register_formats
from webapp.storage import get_storage


def saved(im: Image.Image, encoder: AvifEncoder) -> bytes:
    """The image as libavif encodes it with exactly this encoder and its settings."""
    buffer = io.BytesIO()
    im.save(buffer, "AVIF", codec=encoder.codec, quality=encoder.quality, speed=encoder.speed, max_threads=1)
    return buffer.getvalue()


def transparent_half(size: tuple[int, int]) -> Image.Image:
    im = Image.new("RGBA", size, (200, 30, 30, 255))
    ImageDraw.Draw(im).rectangle((size[0] // 2, 0, size[0], size[1]), fill=(0, 0, 0, 0))
    return im


def test_a_photo_is_encoded_by_svt_av1_and_decoded_by_pillows_own_plugin():
    register_formats()
    derivatives = make_derivatives(encoded(scene(1, (1200, 900)), "JPEG"))

    assert derivatives.processed.data == saved(derivatives.pixels, SVT_AV1)
    assert derivatives.processed.data != saved(derivatives.pixels, AOM)
    # Both plugins wrap the same libavif; uploads keep being read by the decoder they were measured with.
    assert type(Image.open(io.BytesIO(derivatives.processed.data))).__module__ == "PIL.AvifImagePlugin"


@pytest.mark.parametrize(
    "im",
    [
        pytest.param(Image.new("RGB", (3, 200), "teal"), id="3x200"),
        pytest.param(Image.new("RGB", (2048, 1), "teal"), id="2048x1"),
        pytest.param(transparent_half((2, 2)), id="2x2-alpha"),
    ],
)
def test_what_svt_av1_cannot_encode_is_encoded_by_aom(im):
    processed = encode_avif(im, SVT_AV1, AOM)

    assert processed.data == saved(im, AOM)
    assert Image.open(io.BytesIO(processed.data)).size == im.size


def test_an_encoder_that_fails_falls_back_to_aom():
    im = Image.new("RGB", (64, 64), "teal")

    processed = encode_avif(im, AvifEncoder("no-such-codec", 60, 10), AOM)

    assert processed.data == saved(im, AOM)


@pytest.mark.parametrize("size", [(4, 4), (5, 7), (333, 201), (2047, 9)])
def test_odd_sizes_and_alpha_come_back_whole(size):
    im = transparent_half(size)

    decoded = Image.open(io.BytesIO(encode_avif(im, SVT_AV1, AOM).data))

    assert (decoded.size, decoded.mode) == (size, "RGBA")
    assert decoded.getpixel((0, 0))[3] > 245 and decoded.getpixel((size[0] - 1, 0))[3] < 10


def test_svt_av1_writes_nothing_to_the_workers_log():
    program = (
        "from tests.support.factories import encoded, scene\n"
        "from webapp.imaging import make_derivatives\n"
        "make_derivatives(encoded(scene(2, (640, 480)), 'PNG'))\n"
    )
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)

    assert run.stderr == "" and run.stdout == ""


def test_the_worker_makes_the_processed_avif_with_svt_av1(app, client, user, worker):
    """The worker process registers the plugin too: what it stores is SVT-AV1's encode."""
    data = encoded(scene(3, (900, 600)), "JPEG")

    session_id = upload(client, user.headers, data, "scene.jpg").get_json()["session_id"]

    assert wait_until_terminal(app, session_id) == "completed"
    photo = client.get(f"/api/photos/{session_id}", headers=user.headers).get_json()
    processed = next(image for image in photo["images"] if image["kind"] == "processed")
    with app.app_context():
        stored = get_storage().get(processed["key"])
    assert stored == saved(make_derivatives(data).pixels, SVT_AV1)
