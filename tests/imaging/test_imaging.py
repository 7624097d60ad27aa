"""Tests of upload validation and photo derivatives, on images generated in memory."""

import hashlib
import io
import struct
import warnings
import zlib

import pillow_heif
import pytest
from PIL import ExifTags, Image, ImageDraw, ImageSequence

from webapp.imaging import (
    FORMATS,
    CorruptImage,
    EmptyFile,
    InvalidImage,
    RenderSettings,
    TooManyPixels,
    UnsupportedImage,
    UploadLimits,
    decode_budget,
    inspect_upload,
    make_derivatives,
)

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


def limits(max_pixels: int = 10**6, max_frames: int = 100, memory: int = 64 * 2**20) -> UploadLimits:
    """Upload limits for a test: pixels and frames an upload may declare, bytes validation may decode."""
    return UploadLimits(max_pixels, max_frames, decode_budget(memory))


def encode(im: Image.Image, image_format: str, **params) -> bytes:
    """Return the image saved in the given format (HEIF through pillow-heif)."""
    pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    im.save(buffer, image_format, **params)
    return buffer.getvalue()


def marked(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """A blue image with a red block in its top-left corner, a quarter of each side."""
    im = Image.new("RGB", size, BLUE)
    ImageDraw.Draw(im).rectangle((0, 0, size[0] // 4, size[1] // 4), fill=RED)
    return im.convert(mode)


def decoded(data: bytes) -> Image.Image:
    """Open encoded bytes and decode them."""
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def near(pixel: tuple[int, ...], colour: tuple[int, int, int], tolerance: int = 40) -> bool:
    """Whether an RGB(A) pixel is within tolerance of a colour on every channel."""
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims the given size, with almost no pixel data behind it."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    pixels = zlib.compress(b"\0")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def swapped_primaries_profile() -> bytes:
    """An ICC v2 RGB profile whose red and blue primaries are sRGB's blue and red."""

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ \0\0\0\0" + struct.pack(">iii", *(round(v * 65536) for v in (x, y, z)))

    text = b"Swapped primaries\0"
    gamma = b"curv\0\0\0\0" + struct.pack(">IH", 1, 0x0233) + b"\0\0"
    white = xyz(0.9642, 1.0, 0.8249)
    tags = [
        (b"desc", b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + bytes(78)),
        (b"wtpt", white),
        (b"rXYZ", xyz(0.1431, 0.0606, 0.7141)),
        (b"gXYZ", xyz(0.3851, 0.7169, 0.0971)),
        (b"bXYZ", xyz(0.4361, 0.2225, 0.0139)),
        *((name, gamma) for name in (b"rTRC", b"gTRC", b"bTRC")),
    ]
    table, body, offset = b"", b"", 128 + 4 + 12 * len(tags)
    for name, data in tags:
        data += bytes(-len(data) % 4)
        table += name + struct.pack(">II", offset + len(body), len(data))
        body += data
    # Size, CMM, version 2.1, display class, RGB data, XYZ connection space, date, magic, D50 illuminant.
    header = struct.pack(">I", offset + len(body)) + b"lcms\2\x10\0\0mntrRGB XYZ " + bytes(12) + b"acsp"
    header += bytes(28) + white[8:]
    return header.ljust(128, b"\0") + struct.pack(">I", len(tags)) + table + body


@pytest.mark.parametrize("image_format", list(FORMATS))
def test_accepted_formats_are_described_by_content(image_format):
    data = encode(marked((64, 48), "P" if image_format == "GIF" else "RGB"), image_format)
    stream = io.BytesIO(data)

    info = inspect_upload(stream, limits(max_pixels=10_000))

    extension, content_type = FORMATS[image_format]
    described = "JPEG" if image_format == "MPO" else image_format  # a multi-picture JPEG is a JPEG
    assert (info.format, info.extension, info.content_type) == (described, extension, content_type)
    assert (info.width, info.height) == (64, 48)
    assert (info.sha256, info.size) == (hashlib.sha256(data).hexdigest(), len(data))
    assert stream.tell() == 0


def test_empty_file_is_refused():
    with pytest.raises(EmptyFile) as caught:
        inspect_upload(io.BytesIO(b""), limits(max_pixels=10_000))

    assert (caught.value.code, caught.value.status) == ("empty_file", 422)
    assert caught.value.message == "The file is empty."


@pytest.mark.parametrize(
    "data",
    [
        b"just some text, honest\n",
        b"<!DOCTYPE html><html><script>alert(1)</script></html>",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        encode(marked((32, 32)), "PDF"),
        encode(marked((32, 32)), "TIFF"),
        encode(marked((32, 32)), "BMP"),
    ],
    ids=["text", "html", "svg", "pdf", "tiff", "bmp"],
)
def test_non_images_and_other_formats_are_unsupported(data):
    stream = io.BytesIO(data)
    stream.name = "holiday.jpg"  # the name must not matter

    with pytest.raises(UnsupportedImage) as caught:
        inspect_upload(stream, limits(max_pixels=10_000))

    assert (caught.value.code, caught.value.status) == ("unsupported_image", 415)


def test_truncated_jpeg_is_corrupt_and_stream_is_rewound():
    data = encode(Image.effect_noise((256, 256), 60).convert("RGB"), "JPEG")
    stream = io.BytesIO(data[: len(data) // 2])

    with pytest.raises(CorruptImage) as caught:
        inspect_upload(stream, limits(max_pixels=100_000))

    assert (caught.value.code, caught.value.status) == ("corrupt_image", 422)
    assert stream.tell() == 0


def test_small_file_with_huge_dimensions_is_refused_without_touching_global_warnings():
    bomb = encode(Image.new("1", (10_000, 10_000)), "PNG")  # ~12 KB, 100 megapixels
    filters_before = list(warnings.filters)

    with pytest.raises(TooManyPixels) as caught:
        inspect_upload(io.BytesIO(bomb), limits(max_pixels=10**9))

    assert (caught.value.code, caught.value.status) == ("too_many_pixels", 422)
    assert len(bomb) < 20_000
    assert warnings.filters == filters_before


def test_header_claiming_far_too_many_pixels_is_refused():
    with pytest.raises(TooManyPixels):
        inspect_upload(io.BytesIO(png_claiming(20_000, 20_000)), limits(max_pixels=10**9))


def test_pixel_ceiling_is_honoured():
    data = encode(marked((100, 100)), "PNG")

    assert inspect_upload(io.BytesIO(data), limits(max_pixels=10_000)).width == 100
    with pytest.raises(TooManyPixels):
        inspect_upload(io.BytesIO(data), limits(max_pixels=9_999))


def test_errors_carry_a_message_that_can_be_overridden():
    for error in (EmptyFile, UnsupportedImage, CorruptImage, TooManyPixels):
        assert issubclass(error, InvalidImage)
        assert error().message and str(error()) == error().message
        assert error("Try a smaller photo.").message == "Try a smaller photo."


def assert_renditions_decode(derivatives, has_alpha: bool = False) -> None:
    """Outputs decode with Pillow as what they claim; only the AVIF keeps alpha, if the source had it."""
    for rendition, image_format in (
        (derivatives.thumbnail_original, "JPEG"),
        (derivatives.processed, "AVIF"),
        (derivatives.thumbnail_processed, "JPEG"),
    ):
        im = decoded(rendition.data)
        assert rendition.content_type == f"image/{image_format.lower()}"
        assert (im.format, im.size) == (image_format, (rendition.width, rendition.height))
        expected_mode = "RGBA" if has_alpha and image_format == "AVIF" else "RGB"
        assert im.mode == expected_mode
    assert derivatives.pixels.mode == ("RGBA" if has_alpha else "RGB")


@pytest.mark.parametrize(
    ("source", "image_format", "processed_size", "thumbnail_size"),
    [
        ((4000, 3000), "JPEG", (2000, 1500), (320, 240)),  # DCT-scaled decode, no resample
        ((3000, 1000), "JPEG", (2048, 683), (320, 107)),
        ((2500, 500), "PNG", (2048, 410), (320, 64)),
        ((4000, 3000), "PNG", (2000, 1500), (320, 240)),  # box-reduced by 2, as a JPEG decodes
        ((6200, 1000), "HEIF", (2048, 331), (320, 52)),  # by 3 to 2067 px, then resampled
        ((120, 60), "PNG", (120, 60), (120, 60)),  # never upscaled
    ],
)
def test_sizes_are_bounded_and_never_upscaled(source, image_format, processed_size, thumbnail_size):
    derivatives = make_derivatives(encode(marked(source), image_format))

    assert (derivatives.processed.width, derivatives.processed.height) == processed_size
    assert derivatives.pixels.size == processed_size
    for thumbnail in (derivatives.thumbnail_original, derivatives.thumbnail_processed):
        assert (thumbnail.width, thumbnail.height) == thumbnail_size
    assert_renditions_decode(derivatives)


def test_a_box_reduced_edge_of_transparency_keeps_the_colour_of_what_shows():
    """A 2x2 box across the edge averages an opaque blue with transparent red pixels: blue, half seen."""
    im = Image.new("RGBA", (4000, 3000), (*RED, 0))
    ImageDraw.Draw(im).rectangle((0, 0, 2000, 2999), fill=(*BLUE, 255))

    pixels = make_derivatives(encode(im, "PNG")).pixels

    assert pixels.size == (2000, 1500)
    assert pixels.getpixel((1000, 700)) == (*BLUE, 128)


def test_custom_sizes_are_honoured():
    settings = RenderSettings(max_side=500, thumbnail_side=100)

    derivatives = make_derivatives(encode(marked((1000, 800)), "JPEG"), settings)

    assert (derivatives.processed.width, derivatives.processed.height) == (500, 400)
    assert (derivatives.thumbnail_original.width, derivatives.thumbnail_original.height) == (100, 80)


@pytest.mark.parametrize(
    ("source", "orientation", "upright", "red_corner"),
    [
        ((400, 200), 6, (200, 400), "top_right"),
        ((400, 200), 3, (400, 200), "bottom_right"),
        ((400, 200), 8, (200, 400), "bottom_left"),
        ((4000, 2000), 6, (1000, 2000), "top_right"),  # turned after the DCT-scaled decode
    ],
)
def test_exif_orientation_is_applied(source, orientation, upright, red_corner):
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation

    derivatives = make_derivatives(encode(marked(source), "JPEG", exif=exif))

    for im in (decoded(derivatives.processed.data), decoded(derivatives.thumbnail_original.data)):
        width, height = im.size
        assert width / height == pytest.approx(upright[0] / upright[1], rel=0.02)
        corners = {
            "top_left": (2, 2),
            "top_right": (width - 3, 2),
            "bottom_left": (2, height - 3),
            "bottom_right": (width - 3, height - 3),
        }
        for corner, position in corners.items():
            assert near(im.getpixel(position), RED if corner == red_corner else BLUE), corner
    assert derivatives.pixels.size == upright


def test_metadata_is_stripped_from_every_output():
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SecretCam"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (52.0, 13.0, 7.5),
    }
    source = encode(
        marked((200, 100)),
        "JPEG",
        exif=exif,
        comment=b"<script>COMMENTPAYLOAD</script>",
        xmp=b"<x:xmpmeta>XMPPAYLOAD</x:xmpmeta>",
    )

    derivatives = make_derivatives(source)

    assert derivatives.pixels.info == {}
    for rendition in (derivatives.thumbnail_original, derivatives.processed, derivatives.thumbnail_processed):
        im = decoded(rendition.data)
        assert not im.getexif()
        assert not {"exif", "comment", "xmp", "icc_profile"} & set(im.info)
        for secret in (b"SecretCam", b"COMMENTPAYLOAD", b"XMPPAYLOAD"):
            assert secret not in rendition.data


def test_non_srgb_profile_is_converted_and_dropped():
    source = encode(Image.new("RGB", (64, 64), RED), "PNG", icc_profile=swapped_primaries_profile())

    derivatives = make_derivatives(source)

    assert near(derivatives.pixels.getpixel((32, 32)), BLUE, tolerance=8)
    for rendition in (derivatives.processed, derivatives.thumbnail_original):
        im = decoded(rendition.data)
        assert "icc_profile" not in im.info
        assert near(im.getpixel((32, 32)), BLUE)


def test_alpha_is_kept_in_avif_and_flattened_onto_white_in_jpeg():
    im = Image.new("RGBA", (200, 100), (*RED, 255))
    ImageDraw.Draw(im).rectangle((100, 0, 199, 99), fill=(0, 0, 0, 0))

    derivatives = make_derivatives(encode(im, "PNG"))

    processed = decoded(derivatives.processed.data)
    assert processed.getpixel((150, 50))[3] < 10 and processed.getpixel((50, 50))[3] > 245
    thumbnail = decoded(derivatives.thumbnail_original.data)
    assert near(thumbnail.getpixel((150, 50)), WHITE) and near(thumbnail.getpixel((50, 50)), RED)
    assert_renditions_decode(derivatives, has_alpha=True)


def sixteen_bit_grey() -> bytes:
    """A 16-bit greyscale PNG at 50 % grey (value 32768)."""
    return encode(Image.new("I;16", (64, 64), 32768), "PNG")


def palette_with_transparency() -> bytes:
    """A palette PNG whose left half is transparent."""
    im = Image.new("P", (64, 64), 1)
    im.putpalette([0, 0, 0, *RED])
    ImageDraw.Draw(im).rectangle((0, 0, 31, 63), fill=0)
    return encode(im, "PNG", transparency=0)


def animated(image_format: str) -> bytes:
    """A two-frame animation, red then blue."""
    frames = [Image.new("RGB", (64, 64), RED), Image.new("RGB", (64, 64), BLUE)]
    return encode(frames[0], image_format, save_all=True, append_images=frames[1:], duration=100, loop=0)


@pytest.mark.parametrize(
    ("source", "has_alpha", "centre"),
    [
        (encode(Image.new("CMYK", (64, 64), (0, 255, 255, 0)), "JPEG"), False, RED),
        (sixteen_bit_grey(), False, (128, 128, 128)),
        (palette_with_transparency(), True, RED),
        (encode(Image.new("RGB", (64, 64), RED).convert("P"), "PNG"), False, RED),
        (encode(Image.new("LA", (64, 64), (200, 128)), "PNG"), True, (200, 200, 200)),
        (encode(Image.new("L", (64, 64), 60), "JPEG"), False, (60, 60, 60)),
        (encode(Image.new("1", (64, 64), 1), "PNG"), False, WHITE),
        (encode(Image.new("RGBA", (64, 64), (*BLUE, 128)), "WEBP"), True, BLUE),
        (animated("GIF"), False, RED),
        (animated("WEBP"), False, RED),
    ],
    ids=[
        "cmyk",
        "16-bit",
        "palette-alpha",
        "palette",
        "la",
        "grey",
        "1-bit",
        "rgba-webp",
        "gif",
        "anim-webp",
    ],
)
def test_every_mode_becomes_rgb_with_the_right_colours(source, has_alpha, centre):
    derivatives = make_derivatives(source)

    assert_renditions_decode(derivatives, has_alpha)
    assert near(derivatives.pixels.getpixel((48, 32)), centre, tolerance=8)
    processed = decoded(derivatives.processed.data)
    assert near(processed.getpixel((48, 32)), centre)
    assert len(list(ImageSequence.Iterator(processed))) == 1  # first frame only


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", UnsupportedImage),
        (encode(marked((32, 32)), "TIFF"), UnsupportedImage),
        (encode(Image.effect_noise((256, 256), 60).convert("RGB"), "JPEG")[:3000], CorruptImage),
    ],
    ids=["empty", "tiff", "truncated"],
)
def test_derivatives_refuse_what_inspection_refuses(data, error):
    with pytest.raises(error):
        make_derivatives(data)
