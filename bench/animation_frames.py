"""What moderating every sampled frame of an animation costs a worker, against its first frame alone.

    .venv/bin/python -m bench.animation_frames [--frames 16] [--size 640x480] [--runs 5]

A GIF of `--frames` photo-like frames (bench.pipeline.make_photo, fitted to `--size`) and a still GIF of
its first frame alone go through what a worker does for them, in this process and single-threaded as a
worker runs the model: make_derivatives, the walk over the sampled frames (webapp/imaging/animation.py:
hashed, and kept at the provider's frame side), then the provider's own work: for `local` the model on
every frame and the worst frame chosen, for `rekognition` the contact sheet made and encoded (the call
itself is not made). The walk hashing the frames alone, which the hash banks need anyway, is timed too.
Each variant runs `--runs` times, interleaved; the median CPU milliseconds (process time) are printed,
with the extra an animation costs and its parts.
"""

import argparse
import io
import statistics
import time
from collections.abc import Callable

from PIL import Image

from bench.pipeline import make_photo
from webapp.imaging import RenderSettings, make_derivatives
from webapp.imaging.animation import later_frames
from webapp.providers import registry
from webapp.providers.local import load_model
from webapp.providers.policy import DEFAULT_FLAG, DEFAULT_REJECT, Policy
from webapp.providers.rekognition import RekognitionModerator
from webapp.providers.worst_frame import worst_frame

POLICY = Policy(reject=DEFAULT_REJECT, flag=DEFAULT_FLAG)


class SheetOnly(RekognitionModerator):
    """Makes and encodes the contact sheet as the real provider does, and answers without calling AWS."""

    def __init__(self) -> None:
        super().__init__(client=self)

    def detect_moderation_labels(self, **request) -> dict:
        return {"ModerationLabels": [], "ModerationModelVersion": "none"}


def gif(pictures: list[Image.Image]) -> bytes:
    buffer = io.BytesIO()
    pictures[0].save(buffer, "GIF", save_all=True, append_images=pictures[1:], duration=100)
    return buffer.getvalue()


def local(data: bytes, settings: RenderSettings, parts: dict[str, float]) -> None:
    """The local provider's path: derivatives, the walk at the model's side, the model on each frame."""
    pixels = _timed(parts, "derivatives", lambda: make_derivatives(data, settings).pixels)
    frames = _timed(parts, "walk", lambda: later_frames(data, settings, registry.LocalModel.frame_side))
    photo = registry.Photo(pixels, None, None, frames)
    if frames:
        _timed(parts, "model", lambda: worst_frame(load_model(), photo.frames(), POLICY))
    else:
        _timed(parts, "model", lambda: load_model().moderate(pixels))


def hashes_only(data: bytes, settings: RenderSettings, parts: dict[str, float]) -> None:
    """The walk as the frames' hashing alone needs it (no provider looking at frames): the part of the
    extra that the hash banks cost."""
    _timed(parts, "walk", lambda: later_frames(data, settings))


def rekognition(data: bytes, settings: RenderSettings, parts: dict[str, float]) -> None:
    """Rekognition's path up to its call: derivatives, the walk at the tile side, the contact sheet."""
    pixels = _timed(parts, "derivatives", lambda: make_derivatives(data, settings).pixels)
    frames = _timed(parts, "walk", lambda: later_frames(data, settings, registry.Rekognition.frame_side))
    if frames:
        photo = registry.Photo(pixels, None, None, frames)
        _timed(parts, "sheet", lambda: SheetOnly().moderate_frames(photo.frames()))


def _timed(parts: dict[str, float], name: str, work: Callable):
    start = time.process_time()
    result = work()
    parts[name] = (time.process_time() - start) * 1000
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--size", default="640x480")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    size = tuple(int(side) for side in args.size.split("x"))
    pictures = [make_photo(seed).resize(size, Image.Resampling.LANCZOS) for seed in range(args.frames)]
    inputs = {"animation": gif(pictures), "first frame": gif(pictures[:1])}
    settings = RenderSettings()
    load_model()  # loaded once, before the clock, as a worker preloads it
    runs: dict[tuple[str, str], list[dict[str, float]]] = {}
    for _ in range(args.runs):
        for provider in (local, rekognition, hashes_only):
            for name, data in inputs.items():
                parts: dict[str, float] = {}
                provider(data, settings, parts)
                runs.setdefault((provider.__name__, name), []).append(parts)
    print(
        f"{args.frames}-frame {args.size} GIF ({len(inputs['animation']) // 1024} KiB), median of {args.runs}"
    )
    for provider in ("local", "rekognition"):
        still, animated = (_medians(runs[(provider, name)]) for name in ("first frame", "animation"))
        extra = animated["total"] - still["total"]
        detail = ", ".join(f"{part} {ms:.0f}" for part, ms in animated.items() if part != "total")
        print(
            f"{provider:12} first frame {still['total']:6.0f} ms  animation {animated['total']:6.0f} ms  "
            f"extra {extra:6.0f} ms (x{animated['total'] / still['total']:.1f}; animation: {detail})"
        )
    hashing = _medians(runs[("hashes_only", "animation")])["total"]
    print(f"the walk hashing the frames alone (the hash banks' share of it): {hashing:.0f} ms")


def _medians(runs: list[dict[str, float]]) -> dict[str, float]:
    medians = {part: statistics.median(run[part] for run in runs) for part in runs[0]}
    medians["total"] = statistics.median(sum(run.values()) for run in runs)
    return medians


if __name__ == "__main__":
    main()
