"""Opening uploads: the formats we accept, and every decoder failure turned into an InvalidImage.

Pillow is asked for our formats only, so the parsers of the dozens of others it knows (BLP, DDS,
FLI, EPS, TIFF…, where most decoder bugs and allocation bombs live) never see an upload.
"""

import importlib
import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import BinaryIO

import pillow_heif
from PIL import ExifTags, Image, UnidentifiedImageError

from webapp.imaging.errors import CorruptImage, InvalidImage, TooManyPixels, UnsupportedImage

log = logging.getLogger(__name__)

# Pillow format name -> (file extension, content type) of every format we accept. A multi-picture
# JPEG (MPO: stereo pairs, and the gain or depth maps phones append) is a JPEG whose first picture
# is the photo; Pillow names it MPO even when asked for JPEG only.
FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "MPO": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
    "GIF": ("gif", "image/gif"),
    "AVIF": ("avif", "image/avif"),
    "HEIF": ("heic", "image/heic"),
}
JPEG_FORMATS = frozenset({"JPEG", "MPO"})
# The openers to try: MPO is reached through JPEG's.
_OPENERS = [name for name in FORMATS if name != "MPO"]
# EXIF orientations that swap width and height.
_SIDEWAYS = frozenset({5, 6, 7, 8})


@cache
def register_formats() -> None:
    """Load Pillow's format plugins once, teach it HEIF (pillow-heif), encode AVIF with pillow-avif-plugin.

    Of a HEIF only the primary image is read: no embedded thumbnails, depth or auxiliary images. One
    decoder thread, because we run one worker process per core.

    Both AVIF plugins wrap the same libavif and dav1d; the plugin's wheel also ships SVT-AV1, the
    encoder the processed AVIF is made with (derivatives.py). Importing it registers its opener and
    saver over Pillow's; Pillow's opener is put back, so uploads are decoded as before. `Image.init()`
    runs first because it runs only once: it can never register Pillow's plugin over the saver later.
    """
    Image.init()
    pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False, decode_threads=1)
    # SVT-AV1 writes a banner to stderr on every encode unless told to log errors only.
    os.environ.setdefault("SVT_LOG", "1")
    pillow_opener = Image.OPEN["AVIF"]
    importlib.import_module("pillow_avif")
    Image.register_open("AVIF", *pillow_opener)


@contextmanager
def reading(source: BinaryIO) -> Iterator[Image.Image]:
    """Open an upload as one of our formats; whatever fails inside the block becomes an InvalidImage."""
    register_formats()
    with _as_invalid_image(), Image.open(source, formats=_OPENERS) as im:
        yield im


def orientation(im: Image.Image) -> int:
    """The EXIF (or XMP) orientation among the metadata read so far, 1 when there is none.

    Never decodes pixels (PNG's own getexif() would, to look past the image data); HEIF's
    transforms are already applied by libheif, which resets its orientation to 1.
    """
    return Image.Image.getexif(im).get(ExifTags.Base.Orientation, 1)


def upright(size: tuple[int, int], turn: int) -> tuple[int, int]:
    """Width and height as the photo is meant to be seen, for an image of `size` in orientation `turn`."""
    width, height = size
    return (height, width) if turn in _SIDEWAYS else (width, height)


@contextmanager
def _as_invalid_image() -> Iterator[None]:
    """Turn what a decoder raises on a malformed file into the InvalidImage it means.

    Decoders raise almost anything on hostile input (OSError, SyntaxError, ValueError, EOFError,
    KeyError, struct.error, MemoryError…); none of them may reach the client as a 500.
    """
    with warnings.catch_warnings():
        # Pillow only warns between 1x and 2x MAX_IMAGE_PIXELS; its security guide says to refuse.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        # Damaged metadata (corrupt EXIF, a malformed MPO index) is read past with a UserWarning.
        warnings.simplefilter("ignore", UserWarning)
        try:
            yield
        except InvalidImage:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise TooManyPixels() from exc
        except MemoryError as exc:
            raise TooManyPixels("The image is too large to decode.") from exc
        except UnidentifiedImageError as exc:
            raise UnsupportedImage() from exc
        except Exception as exc:
            log.info("undecodable image: %s: %s", type(exc).__name__, exc)
            raise CorruptImage() from exc
