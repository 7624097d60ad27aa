"""Deciding from content alone whether an upload is an image we accept, within bounded memory.

Declared dimensions, frame counts and a JPEG's scans are checked before a single pixel is
decoded. The decode that proves the file is whole then runs inside a per-process memory budget: a
JPEG is decoded at 1/8 scale (every byte is still read; a progressive one still holds its
coefficients at full size), PNG, WebP and GIF at full size. An image whose decode would not fit
the budget is accepted on its headers alone and fully decoded by the worker, which fails it if it
is damaged; so is every HEIC and AVIF, whose decoders have no reduced scale: proving a 12 MP HEIC
whole would cost the web ~0.5 s of CPU, the cost of the worker's own decode, for a rare refusal.
"""

import hashlib
import io
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import BinaryIO

from PIL import Image

from webapp.imaging.budget import decode_cost
from webapp.imaging.errors import AnimationTooLarge, EmptyFile, InvalidImage, TooManyFrames, TooManyPixels
from webapp.imaging.frames import count_frames
from webapp.imaging.jpeg import JpegPicture, read_picture
from webapp.imaging.reading import FORMATS, JPEG_FORMATS, orientation, reading, upright

log = logging.getLogger(__name__)

_HASH_CHUNK = 1024 * 1024
# Formats decoded only at full size (libheif, libavif): the worker's decode is their proof.
_HEADERS_ONLY = frozenset({"HEIF", "AVIF"})
# Formats whose headers Pillow reads only from a whole file (libwebp's demuxer, libavif's parser).
_WHOLE_FILE_HEADERS = ("WEBP", "AVIF")


@dataclass(frozen=True)
class ImageInfo:
    """What an accepted upload is: its format, upright dimensions, content hash and byte size."""

    format: str
    extension: str
    content_type: str
    width: int
    height: int
    sha256: str
    size: int
    fully_decoded: bool


@dataclass(frozen=True)
class UploadLimits:
    """What an upload may declare, and how much memory this process lets validation decodes hold."""

    max_pixels: int
    max_frames: int
    decode_budget: "DecodeBudget"
    # Frames times canvas pixels: moderating an animation walks every frame up to its last, so a small
    # file of many large flat frames would otherwise buy a minute of a worker's CPU.
    max_animation_pixels: int = 500_000_000


class DecodeBudget:
    """Bytes that the decodes of one process may hold at once; a decode waits until its share is free."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._free = capacity
        self._changed = threading.Condition()

    @contextmanager
    def reserve(self, size: int) -> Iterator[None]:
        """Hold `size` bytes of the budget (at most its capacity) for the duration of the block."""
        with self._changed:
            self._changed.wait_for(lambda: self._free >= size)
            self._free -= size
        try:
            yield
        finally:
            with self._changed:
                self._free += size
                self._changed.notify_all()


@cache
def decode_budget(capacity: int) -> DecodeBudget:
    """The process's one budget of that capacity, shared by every request thread."""
    return DecodeBudget(capacity)


@dataclass(frozen=True)
class DeclaredImage:
    """What the first bytes of a file say it is: its format and, when its headers say, upright size."""

    format: str
    extension: str
    content_type: str
    width: int | None
    height: int | None


def inspect_upload(stream: BinaryIO, limits: UploadLimits, decode: bool = True) -> ImageInfo:
    """Check by content that `stream` is an image we accept and describe it.

    Without `decode`, the file is checked by its headers only (a worker's own decode proves it whole).
    Raises an InvalidImage subclass otherwise. The stream is left at position 0.
    """
    sha256, size = _digest(stream)
    if size == 0:
        raise EmptyFile()
    try:
        with reading(stream) as im:
            jpeg = _check_declared(im, stream, limits)
            image_format = "JPEG" if im.format in JPEG_FORMATS else im.format
            declared = im.size
            fully_decoded = decode and _decode_within(im, jpeg, limits.decode_budget)
            # After the decode: a PNG may keep its EXIF after the image data.
            width, height = upright(declared, orientation(im))
    finally:
        stream.seek(0)
    extension, content_type = FORMATS[image_format]
    return ImageInfo(image_format, extension, content_type, width, height, sha256, size, fully_decoded)


def inspect_start(start: bytes, size: int, limits: UploadLimits) -> DeclaredImage:
    """Check a file of `size` bytes by its first bytes, `start`, as an upload's headers are checked.

    Declared pixels, and frames and scans as far as `start` shows them, are refused by the same rules.
    A WebP or AVIF whose headers Pillow cannot read from a part of the file passes on its signature
    alone, with no size: the worker checks every file whole before it decodes it.
    """
    if size == 0:
        raise EmptyFile()
    stream = io.BytesIO(start)
    try:
        with reading(stream) as im:
            _check_declared(im, stream, limits)
            image_format = "JPEG" if im.format in JPEG_FORMATS else im.format
            width, height = upright(im.size, orientation(im))
    except InvalidImage:
        signature = _whole_file_signature(start)
        if len(start) >= size or signature is None:
            raise
        return DeclaredImage(signature, *FORMATS[signature], None, None)
    return DeclaredImage(image_format, *FORMATS[image_format], width, height)


def _whole_file_signature(start: bytes) -> str | None:
    """The format among those read only whole whose signature `start` carries (Pillow's own test)."""
    for name in _WHOLE_FILE_HEADERS:
        accept = Image.OPEN[name][1]
        if accept is not None and accept(start) is True:
            return name
    return None


def _digest(stream: BinaryIO) -> tuple[str, int]:
    """Return the sha256 hex digest and byte count of the whole stream."""
    stream.seek(0)
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(_HASH_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    stream.seek(0)
    return digest.hexdigest(), size


def _check_declared(im: Image.Image, stream: BinaryIO, limits: UploadLimits) -> JpegPicture | None:
    """Refuse what the headers declare before anything is decoded; a JPEG's structure when it is one."""
    # Never above Pillow's own bomb threshold: its warning filter is process-global and another
    # thread may reset it, so this check must catch those images by itself.
    if im.width * im.height > min(limits.max_pixels, Image.MAX_IMAGE_PIXELS):
        raise TooManyPixels()
    frames = count_frames(im, stream, limits.max_frames)
    if frames > limits.max_frames:
        raise TooManyFrames(
            f"The image has more than {limits.max_frames:,} frames; the limit is {limits.max_frames:,}."
        )
    # An MPO's later pictures are not frames shown, and are never walked.
    animated = frames > 1 and im.format not in JPEG_FORMATS
    if animated and frames * im.width * im.height > limits.max_animation_pixels:
        raise AnimationTooLarge(
            f"The animation has {frames:,} frames of {im.width}x{im.height}, "
            f"{frames * im.width * im.height / 1e6:,.0f} megapixels in all; "
            f"the limit is {limits.max_animation_pixels / 1e6:,.0f}."
        )
    return read_picture(stream) if im.format in JPEG_FORMATS else None


def _decode_within(im: Image.Image, jpeg: JpegPicture | None, budget: DecodeBudget) -> bool:
    """Decode the first frame if it fits the budget; False when only its headers were checked."""
    if im.format in _HEADERS_ONLY:
        return False
    if im.format in JPEG_FORMATS:
        # Decoding at 1/8 scale still reads every byte (a truncated file fails) with 1/64 the memory.
        im.draft(None, (max(1, im.width // 8), max(1, im.height // 8)))
    cost = decode_cost(im, jpeg)
    if cost > budget.capacity:
        log.info("%s %dx%d over the validation budget: headers checked only", im.format, *im.size)
        return False
    with budget.reserve(cost):
        im.load()
    return True
