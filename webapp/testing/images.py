"""Images made on the fly that need more than Pillow's own encoders."""

import io

import pillow_heif
from PIL import ExifTags, Image


def heic_bytes(im: Image.Image, orientation: int = 1, **save) -> bytes:
    """`im` as a HEIC (x265 through pillow-heif) whose irot/imir transforms say `orientation`.

    The pixels are stored as given; a viewer that applies the transforms sees them turned, as
    with a phone's portrait photo.
    """
    pillow_heif.register_heif_opener()
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    buffer = io.BytesIO()
    im.save(buffer, "HEIF", exif=exif.tobytes(), **save)
    return buffer.getvalue()
