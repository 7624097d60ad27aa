"""Counting an upload's frames, never further than one past the limit.

Pillow's `n_frames` of a GIF walks every frame to the end of the file (a 23 MB GIF of a million
1x1 frames: 2 s); here a GIF's blocks are walked until one frame past the limit. The other formats
we accept say their count up front or have it counted by their C library, as fast as we measured
(`python -m bench.decode_bombs`): APNG's acTL chunk, an MPO's index, libwebp's demuxer, libavif's
sample table, libheif's item list.
"""

import io
from typing import BinaryIO

from PIL import Image

_EXTENSION, _IMAGE, _TRAILER = b"!", b",", b";"


def count_frames(im: Image.Image, stream: BinaryIO, limit: int) -> int:
    """The image's frames, counting no further than `limit` + 1. The stream's position is kept."""
    if im.format != "GIF":
        return min(getattr(im, "n_frames", 1), limit + 1)
    start = stream.tell()
    try:
        return _gif_frames(stream, limit + 1)
    finally:
        stream.seek(start)


def _gif_frames(stream: BinaryIO, most: int) -> int:
    """Image descriptors in a GIF, up to `most`: the logical screen, then its blocks to the trailer."""
    stream.seek(10)
    packed = stream.read(3)[:1]
    if packed and packed[0] & 0x80:
        stream.seek(_colour_table_bytes(packed[0]), io.SEEK_CUR)
    frames = 0
    while frames < most and (introducer := stream.read(1)) not in (b"", _TRAILER):
        if introducer == _EXTENSION:
            stream.seek(1, io.SEEK_CUR)  # its label
            _skip_sub_blocks(stream)
        elif introducer == _IMAGE:
            descriptor = stream.read(9)
            if len(descriptor) < 9:
                break
            if descriptor[8] & 0x80:
                stream.seek(_colour_table_bytes(descriptor[8]), io.SEEK_CUR)
            stream.seek(1, io.SEEK_CUR)  # LZW minimum code size
            _skip_sub_blocks(stream)
            frames += 1
        # Anything else is a stray byte, which Pillow's reader steps over too.
    return max(frames, 1)


def _colour_table_bytes(packed: int) -> int:
    return 3 << ((packed & 7) + 1)


def _skip_sub_blocks(stream: BinaryIO) -> None:
    """Step over a chain of data sub-blocks: each a length byte then that many bytes, 0 ends it."""
    while (size := stream.read(1)) and size[0]:
        stream.seek(size[0], io.SEEK_CUR)
