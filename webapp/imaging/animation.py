"""The frames of an animation that moderation looks at: an even sample, first and last included, hashed
and, for a provider that looks at pixels, fitted small.

Frames are composited as Pillow gives them (a GIF's disposal, an APNG's blending, a WebP's canvas),
which needs every frame before a sampled one: the file is walked forwards once, and only the frame
at hand (with the canvas Pillow keeps) is in memory. The walk runs under the same memory and CPU
budgets as the decode of the first frame.
"""

import io
from dataclasses import dataclass

from PIL import Image

from webapp.imaging.budget import check_fits, cpu_time_limit
from webapp.imaging.derivatives import RenderSettings
from webapp.imaging.fingerprint import Fingerprint, fingerprint
from webapp.imaging.reading import JPEG_FORMATS, reading


@dataclass(frozen=True)
class FrameFingerprint:
    """The PDQ hash of one frame, by its index in the file (the first frame is 0)."""

    index: int
    fingerprint: Fingerprint


@dataclass(frozen=True)
class SampledFrame(FrameFingerprint):
    """A sampled frame's hash and its pixels (RGB or RGBA) fitted within the side asked for; None when
    none was asked for."""

    pixels: Image.Image | None = None


def sample_indices(frames: int, most: int) -> list[int]:
    """At most `most` frame indices spread evenly over `frames`, the first and last among them."""
    if frames <= most:
        return list(range(frames))
    if most < 2:
        return [0]
    # The step is at least 1 when frames > most, so no index repeats.
    return [round(step * (frames - 1) / (most - 1)) for step in range(most)]


def later_frames(data: bytes, settings: RenderSettings, side: int = 0) -> list[SampledFrame]:
    """The sampled frames after the first (whose hash and pixels are the photo's own), each hashed and,
    when `side` is not 0, fitted within `side` px; none for a still image."""
    with reading(io.BytesIO(data)) as im:
        # An MPO's second picture is a stereo partner or a gain map of the photo, not a frame shown.
        frames = 1 if im.format in JPEG_FORMATS else getattr(im, "n_frames", 1)
        if frames < 2:
            return []
        wanted = sample_indices(frames, settings.animation_frames)[1:]
        with cpu_time_limit(settings.decode_seconds):
            return [_sampled_frame(im, index, settings, side) for index in wanted]


def _sampled_frame(im: Image.Image, index: int, settings: RenderSettings, side: int) -> SampledFrame:
    """Seek forwards to the frame, then hash it and keep it fitted small: only that copy outlives the call."""
    im.seek(index)
    check_fits(im, None, settings.decode_memory)
    im.load()
    # Converted before fingerprint() fits it to 512 px: Pillow resizes a palette image with NEAREST only.
    frame = im.convert("RGBA" if im.has_transparency_data else "RGB")
    return SampledFrame(index, fingerprint(frame), fitted(frame, side) if side else None)


def fitted(pixels: Image.Image, side: int) -> Image.Image:
    """The pixels fitted within `side` px on their longest side, never enlarged.

    Resized as the local model fits its input (providers/local.py), so a frame fitted to the model's
    320 px gives the model exactly the input the whole frame would.
    """
    scale = min(1.0, side / max(pixels.size))
    size = (max(1, round(pixels.width * scale)), max(1, round(pixels.height * scale)))
    return pixels.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
