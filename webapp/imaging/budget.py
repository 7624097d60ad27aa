"""What a decode may cost: its memory, estimated from headers before a pixel is decoded, and its CPU time."""

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image

from webapp.imaging.errors import DecodeTooSlow, TooLargeToDecode
from webapp.imaging.jpeg import JpegPicture

# Peak memory of a decode relative to the decoded image, measured at 12 MP (`python -m bench.corpus`
# notes): libwebp, libavif and libheif decode into buffers of their own that Pillow then copies.
_DECODER_OVERHEAD = {"WEBP": 4.5, "AVIF": 2.5, "HEIF": 2.0}


def decode_cost(im: Image.Image, jpeg: JpegPicture | None = None) -> int:
    """Bytes a decode of the image's first frame holds at its peak, as opened (after any draft).

    `jpeg` is the picture's structure when it is a JPEG: a progressive or multi-scan one also
    holds its coefficients at full size, however small the draft.
    """
    if im.mode in ("1", "L", "P"):
        pixel = 1
    elif im.mode.startswith("I;16"):
        pixel = 2
    else:
        pixel = 4  # Pillow keeps RGB as RGBX
    output = int(im.width * im.height * pixel * _DECODER_OVERHEAD.get(im.format, 1.0))
    return output + (jpeg.coefficient_bytes if jpeg else 0)


def check_fits(im: Image.Image, jpeg: JpegPicture | None, capacity: int) -> None:
    """Refuse, before it starts, a decode that would hold more than `capacity` bytes."""
    cost = decode_cost(im, jpeg)
    if cost > capacity:
        raise TooLargeToDecode(
            f"The image needs {_size(cost)} of memory to decode; "
            f"this server decodes at most {_size(capacity)}."
        )


@contextmanager
def cpu_time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block with DecodeTooSlow once the process has spent `seconds` of CPU time in it.

    ITIMER_PROF counts user and system time and signals SIGPROF, so it never meets the SIGALRM of
    RQ's job timeout. The handler runs between two of Pillow's decoder calls: its JPEG, PNG and GIF
    decoders are fed 64 KB at a time, so a slow decode stops within one chunk; libwebp, libavif and
    libheif decode a frame in one call, bounded by the pixel limit. Signals reach only the main
    thread, so elsewhere (a web request's thread) the block runs without a limit.
    """
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise DecodeTooSlow(
            f"Decoding the image took more than {seconds:g} s of CPU time, the most this server allows."
        )

    previous = signal.signal(signal.SIGPROF, expire)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def _size(size: int) -> str:
    return f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{max(size / 1e6, 0.1):.1f} MB"
