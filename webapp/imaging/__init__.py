"""Upload validation and photo derivatives: pure functions over bytes and file objects.

`inspect_upload` decides from content alone, within bounded memory, whether an upload is an image
we accept. `make_derivatives` turns an accepted image into the renditions we store: a JPEG
thumbnail of the original, the processed AVIF (upright, sRGB, no metadata) and its JPEG thumbnail.
"""

from webapp.imaging.derivatives import Derivatives, RenderSettings, Rendition, make_derivatives
from webapp.imaging.errors import (
    CorruptImage,
    DecodeTooSlow,
    EmptyFile,
    InvalidImage,
    TooLargeToDecode,
    TooManyFrames,
    TooManyPixels,
    TooManyScans,
    UnsupportedImage,
)
from webapp.imaging.fingerprint import MIN_QUALITY, Fingerprint, crop_fingerprints, fingerprint
from webapp.imaging.reading import FORMATS
from webapp.imaging.validation import (
    DeclaredImage,
    ImageInfo,
    UploadLimits,
    decode_budget,
    inspect_start,
    inspect_upload,
)

__all__ = [
    "FORMATS",
    "MIN_QUALITY",
    "CorruptImage",
    "DeclaredImage",
    "DecodeTooSlow",
    "Derivatives",
    "EmptyFile",
    "Fingerprint",
    "ImageInfo",
    "InvalidImage",
    "RenderSettings",
    "Rendition",
    "TooLargeToDecode",
    "TooManyFrames",
    "TooManyPixels",
    "TooManyScans",
    "UnsupportedImage",
    "UploadLimits",
    "crop_fingerprints",
    "decode_budget",
    "fingerprint",
    "inspect_start",
    "inspect_upload",
    "make_derivatives",
]
