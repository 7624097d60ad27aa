"""Photo derivatives: an accepted image decoded once, rendered as the JPEG thumbnails and processed AVIF.

The processed AVIF is upright (EXIF orientation applied; HEIF's transforms are applied by libheif),
sRGB, at most `max_side` on its longest side, and carries no metadata at all.
"""

import io
import logging
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageCms

from webapp.imaging.budget import check_fits, cpu_time_limit
from webapp.imaging.fingerprint import Fingerprint, fingerprint
from webapp.imaging.jpeg import read_picture
from webapp.imaging.reading import JPEG_FORMATS, orientation, reading
from webapp.timings import timed

log = logging.getLogger(__name__)

# A photo is reduced by a whole factor when that still leaves at least this share of max_side, and
# needs no resample at all: a JPEG as it decodes (1/2, 1/4 or 1/8 scale), any other by a box filter.
# A 4000 px photo becomes 2000 px; a LANCZOS resample of a 12 MP HEIC to 2048 px costs ~10x more.
_REDUCE_MIN_FRACTION = 0.9
# Box-reduce by an integer factor, then LANCZOS over the last gap: near LANCZOS quality, much faster.
_REDUCING_GAP = 3.0
_PREMULTIPLIED = {"RGBA": "RGBa", "LA": "La"}
_ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class Rendition:
    """One encoded output image."""

    data: bytes
    content_type: str
    width: int
    height: int


@dataclass(frozen=True)
class Derivatives:
    """Everything made from one photo; `pixels` is the image the processed AVIF was encoded from,
    and `fingerprint` their PDQ hash."""

    thumbnail_original: Rendition
    processed: Rendition
    thumbnail_processed: Rendition
    pixels: Image.Image
    fingerprint: Fingerprint


@dataclass(frozen=True)
class AvifEncoder:
    """An AV1 encoder of libavif and its settings; `speed` is libavif's 0-10 whatever the codec."""

    codec: str
    quality: int
    speed: int
    # The smallest width and height the codec encodes.
    min_side: int = 1


# Chosen with `python -m bench.avif_encoders`: at the same quality setting SVT-AV1 encodes a 2048 px
# photograph in ~80 % of aom's CPU time, ~9 % smaller and no worse in PSNR, and the corpus's small
# camera JPEGs in about aom's time, smaller and better. Its all-intra mode has no preset past 9 (libavif's
# speed 10), and it refuses images under 4 px a side.
SVT_AV1 = AvifEncoder("svt", quality=60, speed=10, min_side=4)
# libavif caps aom's cpu-used at 9, so speed 10 writes identical bytes.
AOM = AvifEncoder("aom", quality=60, speed=9)


@dataclass(frozen=True)
class RenderSettings:
    """Sizes and encoder settings of the derivatives, and the memory and CPU time their decode may take."""

    max_side: int = 2048
    thumbnail_side: int = 320
    # The processed AVIF's encoder, and the one for what it cannot encode or fails on.
    avif: AvifEncoder = SVT_AV1
    avif_fallback: AvifEncoder = AOM
    jpeg_quality: int = 85
    decode_memory: int = 2 * 1024**3
    decode_seconds: float = 60.0
    # The most frames of an animation that are hashed and moderated, first and last among them.
    animation_frames: int = 16


def make_derivatives(
    data: bytes, settings: RenderSettings = RenderSettings(), timings: dict[str, float] | None = None
) -> Derivatives:
    """Decode an accepted image once and render its thumbnails and processed AVIF from memory.

    Given `timings`, adds the wall milliseconds of its steps: `decode` (with the resize and the
    thumbnail), `avif` and `pdq`.
    """
    with timed(timings, "decode"):
        pixels = _prepare(data, settings)
        # Both thumbnails show the same oriented pixels, so one encode serves both.
        thumbnail = _encode_jpeg(_fit(pixels, settings.thumbnail_side), settings.jpeg_quality)
    with timed(timings, "avif"):
        processed = encode_avif(pixels, settings.avif, settings.avif_fallback)
    with timed(timings, "pdq"):
        pdq = fingerprint(pixels)
    return Derivatives(
        thumbnail_original=thumbnail,
        processed=processed,
        thumbnail_processed=thumbnail,
        pixels=pixels,
        fingerprint=pdq,
    )


def _prepare(data: bytes, settings: RenderSettings) -> Image.Image:
    """Decode the first frame at most max_side on its longest side: upright, sRGB, RGB(A), no metadata.

    Of a multi-picture JPEG, HEIF or animation only the primary picture is read. The decode must
    fit the settings' memory (estimated before it starts) and CPU time. Every failure on the way,
    whatever the decoder raised, is an InvalidImage.
    """
    max_side = settings.max_side
    stream = io.BytesIO(data)
    with reading(stream) as source:
        # Before any decode: a photo stored before the scan limit existed must not cost hours.
        jpeg = read_picture(stream) if source.format in JPEG_FORMATS else None
        _request_dct_scaling(source, max_side)
        check_fits(source, jpeg, settings.decode_memory)
        with cpu_time_limit(settings.decode_seconds):
            source.load()
        turn = _ORIENTATION_TRANSPOSE.get(orientation(source))
        im = _to_srgb(
            _fit(_reduce(_to_eight_bit(source), max_side), max_side), source.info.get("icc_profile")
        )
        if turn is not None:
            im = im.transpose(turn)
        # Detach from the decoder: it would keep the upload's bytes alive, and the AVIF encoder saves
        # every frame of an animated source it is given.
        pixels = im.copy() if im is source else im
    # Encoders re-use info (JPEG its comment, AVIF its ICC profile), so nothing of the source may stay.
    pixels.info = {}
    return pixels


def _request_dct_scaling(im: Image.Image, max_side: int) -> None:
    """Ask the JPEG decoder for the smallest 1/2, 1/4 or 1/8 scale that keeps enough pixels."""
    if im.format not in JPEG_FORMATS:
        return
    longest = max(im.size)
    for scale in (8, 4, 2):
        if longest / scale >= _REDUCE_MIN_FRACTION * max_side:
            # draft() picks the largest scale whose result still covers the size asked for.
            im.draft(None, (max(1, im.width // scale), max(1, im.height // scale)))
            return


def _to_eight_bit(im: Image.Image) -> Image.Image:
    """Return the image in a mode that resamples well: RGB, RGBA, L, LA or CMYK (CMYK waits for ICC)."""
    if im.mode in ("RGB", "RGBA", "L", "LA", "CMYK"):
        return im
    if im.mode == "1":
        return im.convert("L")
    if im.mode.startswith("I"):
        # 16-bit greys: a plain convert clips everything above 255 to white, so scale instead.
        return im.convert("I").point(lambda value: value / 257).convert("L")
    return im.convert("RGBA" if im.has_transparency_data else "RGB")


def _reduce(im: Image.Image, max_side: int) -> Image.Image:
    """Box-reduce by the largest whole factor that leaves at least _REDUCE_MIN_FRACTION of max_side
    (a drafted JPEG is already there); alpha is premultiplied meanwhile, as resize() does."""
    factor = int(max(im.size) / (_REDUCE_MIN_FRACTION * max_side))
    if factor < 2:
        return im
    premultiplied = _PREMULTIPLIED.get(im.mode)
    if premultiplied is None:
        return im.reduce(factor)
    return im.convert(premultiplied).reduce(factor).convert(im.mode)


def _fit(im: Image.Image, side: int) -> Image.Image:
    """Return the image fitted within side x side; never upscale."""
    if max(im.size) <= side:
        return im
    return im.resize(_fitted_size(im.size, side), Image.Resampling.LANCZOS, reducing_gap=_REDUCING_GAP)


def _fitted_size(size: tuple[int, int], side: int) -> tuple[int, int]:
    """Return the largest size with the same aspect ratio that fits within side x side."""
    width, height = size
    ratio = side / max(width, height)
    return max(1, round(width * ratio)), max(1, round(height * ratio))


def _to_srgb(im: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """Return the image as sRGB RGB, or RGBA when it has alpha, honouring an embedded ICC profile."""
    mode = "RGBA" if im.mode in ("RGBA", "LA") else "RGB"
    source_profile = _foreign_profile(icc_profile)
    if source_profile is not None:
        try:
            return ImageCms.profileToProfile(im, source_profile, _srgb_profile(), outputMode=mode)
        except ImageCms.PyCMSError:
            pass  # a profile that does not fit the pixels (say CMYK for RGB): keep the plain conversion
    return im if im.mode == mode else im.convert(mode)


def _foreign_profile(icc_profile: bytes | None) -> ImageCms.ImageCmsProfile | None:
    """Return the embedded profile if it is readable and not already sRGB."""
    if not icc_profile:
        return None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        description = ImageCms.getProfileDescription(profile)
    except (ImageCms.PyCMSError, OSError):
        return None  # an unreadable profile is no reason to refuse the photo
    return None if "srgb" in description.lower() else profile


@cache
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    """The built-in sRGB profile, made once per process."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _encode_jpeg(im: Image.Image, quality: int) -> Rendition:
    """Encode as JPEG, flattening any transparency onto white."""
    if im.mode == "RGBA":
        flat = Image.new("RGB", im.size, "white")
        flat.paste(im, mask=im.getchannel("A"))
        im = flat
    buffer = io.BytesIO()
    im.save(buffer, "JPEG", quality=quality, optimize=True)
    return Rendition(buffer.getvalue(), "image/jpeg", im.width, im.height)


def encode_avif(im: Image.Image, encoder: AvifEncoder, fallback: AvifEncoder | None = None) -> Rendition:
    """Encode as AVIF on one thread (we run one worker process per core) with `encoder`, or with
    `fallback` where the encoder cannot: an image under its smallest side, or an encoder error."""
    if fallback is not None and min(im.size) < encoder.min_side:
        encoder, fallback = fallback, None
    buffer = io.BytesIO()
    try:
        im.save(
            buffer, "AVIF", codec=encoder.codec, quality=encoder.quality, speed=encoder.speed, max_threads=1
        )
    except (OSError, RuntimeError, ValueError):
        if fallback is None:
            raise
        log.warning(
            "%s could not encode a %dx%d %s image: encoding with %s",
            encoder.codec,
            *im.size,
            im.mode,
            fallback.codec,
            exc_info=True,
        )
        return encode_avif(im, fallback)
    return Rendition(buffer.getvalue(), "image/avif", im.width, im.height)
