"""A JPEG's primary picture as its markers describe it: what libjpeg will hold, and how often it loops.

Read from the raw bytes before any decode, a block at a time, skipping each segment by its
length (an EXIF thumbnail inside APP1 is never taken for the picture) and stopping at the first
end-of-image marker (an MPO's later pictures come after it).
"""

import re
from dataclasses import dataclass, replace
from typing import BinaryIO

from webapp.imaging.errors import TooManyScans

# Real files have 1 to 18 scans: the corpus's JPEGs at most 11, what Pillow, jpegtran and cjpeg
# write at most 18 (progressive CMYK; 10 for YCbCr, 6 for grey), mozjpeg's optimised progressions
# at most 17 (`python -m bench.decode_bombs`; mozjpeg by hand). Each scan is another pass over
# every block it codes (~46 ms at 88 MP, ~11 ms at 16 MP), so the limit keeps a bomb near 2 s of CPU.
MAX_SCANS = 50

_BLOCK = 1024 * 1024
_BLOCK_BYTES = 64 * 2  # a block's 64 coefficients, 16 bits each
# Any marker but the restart markers (FFD0-FFD7) that sit inside entropy-coded data. 0xFF followed
# by 0x00 is a stuffed data byte, and runs of 0xFF are fill: the match is the last 0xFF of a run.
_MARKER = re.compile(rb"\xff[\x01-\xcf\xd8-\xfe]")
_EOI, _SOS, _TEM = 0xD9, 0xDA, 0x01
# Start-of-frame markers (DHT C4, JPG C8 and DAC CC share their range); C2, C6, CA and CE are progressive.
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_PROGRESSIVE = frozenset({0xC2, 0xC6, 0xCA, 0xCE})


@dataclass(frozen=True)
class JpegPicture:
    """The primary picture's frame header and scans, as far as its markers say."""

    width: int = 0
    height: int = 0
    sampling: tuple[tuple[int, int], ...] = ()  # (horizontal, vertical) factor of each component
    progressive: bool = False
    scans: int = 0
    first_scan_components: int = 0

    @property
    def coefficient_bytes(self) -> int:
        """Bytes of the whole-image coefficient buffers libjpeg keeps to decode this picture.

        A picture decoded in one interleaved scan needs none. A progressive one, or one whose
        first scan holds fewer than all components, keeps every component's DCT blocks until its
        last scan, whatever scale the output is drafted to (jdcoefct.c's whole_image arrays).
        """
        if not (self.progressive or self.first_scan_components < len(self.sampling)):
            return 0
        max_h = max((h for h, _ in self.sampling), default=1) or 1
        max_v = max((v for _, v in self.sampling), default=1) or 1
        total = 0
        for h, v in self.sampling:
            columns = _round_up(-(-self.width * h // (max_h * 8)), max(h, 1))
            rows = _round_up(-(-self.height * v // (max_v * 8)), max(v, 1))
            total += columns * rows * _BLOCK_BYTES
        return total


def read_picture(stream: BinaryIO, max_scans: int = MAX_SCANS) -> JpegPicture:
    """Walk the markers of the JPEG in `stream` up to its first end-of-image; the position is kept.

    Raises TooManyScans as soon as the picture has more than `max_scans` scans. Damage is left for
    the decoder to report: the walk just stops where the markers stop making sense.
    """
    start = stream.tell()
    try:
        return _walk(_Window(stream), max_scans)
    finally:
        stream.seek(start)


def _walk(window: "_Window", max_scans: int) -> JpegPicture:
    picture = JpegPicture()
    position = 2  # past the start-of-image marker Pillow checked
    while (found := window.find_marker(position)) is not None:
        code = window.byte(found + 1)
        position = found + 2
        if code == _EOI:
            break
        if code == _TEM:
            continue
        segment = window.bytes(position, 2)
        if len(segment) < 2:
            break
        length = max(2, int.from_bytes(segment, "big"))
        if code == _SOS:
            if picture.scans >= max_scans:
                raise TooManyScans(f"The JPEG has more than {max_scans:,} scans; the limit is {max_scans:,}.")
            first = picture.first_scan_components or window.byte(position + 2)
            picture = replace(picture, scans=picture.scans + 1, first_scan_components=first)
        elif code in _SOF and not picture.sampling:
            frame = _frame(window.bytes(position + 2, length - 2), code)
            picture = replace(frame, scans=picture.scans, first_scan_components=picture.first_scan_components)
        position += length
    return picture


def _frame(header: bytes, code: int) -> JpegPicture:
    """The picture a start-of-frame header declares: P, Y, X, Nf, then Nf times (id, HV, table)."""
    if len(header) < 6:
        return JpegPicture()
    count = header[5]
    components = header[6 : 6 + 3 * count]
    sampling = tuple(
        (components[i + 1] >> 4, components[i + 1] & 15) for i in range(0, len(components) - 2, 3)
    )
    height, width = int.from_bytes(header[1:3], "big"), int.from_bytes(header[3:5], "big")
    return JpegPicture(width, height, sampling, code in _PROGRESSIVE)


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


class _Window:
    """Random access to a seekable stream through one cached block, so memory stays at a block."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._start = 0
        self._data = b""

    def bytes(self, position: int, size: int) -> bytes:
        """Up to `size` bytes at `position` (fewer at the end of the stream)."""
        offset = position - self._start
        if offset < 0 or offset + size > len(self._data):
            self._stream.seek(position)
            self._start, self._data = position, self._stream.read(max(size, _BLOCK))
            offset = 0
        return self._data[offset : offset + size]

    def byte(self, position: int) -> int:
        data = self.bytes(position, 1)
        return data[0] if data else 0

    def find_marker(self, position: int) -> int | None:
        """Where the next marker (not a restart) at or after `position` begins, None at the end."""
        while True:
            self.bytes(position, 2)
            match = _MARKER.search(self._data, position - self._start)
            if match:
                return self._start + match.start()
            if len(self._data) - (position - self._start) < 2:
                return None
            # Keep the last byte: it may be the 0xFF of a marker that straddles the blocks.
            position = self._start + len(self._data) - 1
