"""Benchmark the per-photo pipeline: a naive Pillow version against webapp.imaging.make_derivatives.

    .venv/bin/python -m bench.pipeline [--rounds N] [--alternatives] [--formats]

Two deterministic 12 MP JPEGs (one with EXIF Orientation=6) are generated in a temporary directory.
Every round runs each variant once, in a random order, on one of the two inputs in turn, so that
noise from neighbours hits all variants alike. Times are medians over the rounds; photos/s per core
is 1000 / CPU-ms, the unit for sizing one single-threaded worker process per core. The exit status
is non-zero when photogate misses its targets.

`--formats` then measures the same 12 MP photo (EXIF/irot 6) as a JPEG, as a HEIC (x265, as phones
write it) and as an AVIF, side by side in interleaved rounds: upload validation, a full decode, and
the worker's whole pipeline, each in CPU ms.
"""

import argparse
import functools
import hashlib
import io
import math
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from PIL import ExifTags, Image, ImageChops, ImageDraw, ImageFilter, ImageOps, ImageStat

from webapp.imaging import RenderSettings, UploadLimits, decode_budget, inspect_upload, make_derivatives
from webapp.testing.images import heic_bytes

PHOTO_SIZE = (4000, 3000)
TARGET_PER_CORE = 3.0
TARGET_RATIO = 6.0
# CPU time well above wall time means some library ran extra threads, which per-core sizing forbids.
MAX_CPU_PER_WALL = 1.15
# The codec/speed/quality grid --alternatives runs next to the chosen settings.
ALTERNATIVE_SPEEDS = {"aom": (8, 9), "svt": (8, 10)}
ALTERNATIVE_QUALITIES = (50, 60, 70)

Variant = Callable[[bytes], tuple[bytes, Image.Image]]


@dataclass
class Samples:
    """What one variant measured, one entry per round."""

    wall_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    avif_bytes: list[int] = field(default_factory=list)
    psnr_db: list[float] = field(default_factory=list)


def main() -> int:
    """Generate the inputs, run the rounds, print the table and judge the targets."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=10, help="measured rounds (default 10)")
    parser.add_argument("--alternatives", action="store_true", help="also run other AVIF speed/quality pairs")
    parser.add_argument("--formats", action="store_true", help="also measure HEIC and AVIF beside JPEG")
    args = parser.parse_args()
    photo = make_photo()
    inputs = make_inputs(photo)
    variants = choose_variants(args.alternatives)
    results = run_rounds(variants, inputs, args.rounds)
    print_table(results)
    failures = judge(results["naive"], results["photogate"])
    for failure in failures:
        print(f"FAIL: {failure}")
    if not failures:
        print(f"OK: photogate meets >= {TARGET_PER_CORE} photos/s per core and >= {TARGET_RATIO}x naive.")
    if args.formats:
        print_format_costs(measure_formats(photo, args.rounds))
    return 1 if failures else 0


def make_inputs(photo: Image.Image) -> list[bytes]:
    """Write the two test JPEGs to a temporary directory and return their bytes."""
    orientation = Image.Exif()
    orientation[ExifTags.Base.Orientation] = 6
    inputs = []
    with tempfile.TemporaryDirectory(prefix="photogate-bench-") as directory:
        for name, extra in (("p12mp.jpg", {}), ("p12mp_exif6.jpg", {"exif": orientation})):
            path = Path(directory, name)
            photo.save(path, "JPEG", quality=90, subsampling="4:2:0", **extra)
            inputs.append(path.read_bytes())
            digest = hashlib.sha256(inputs[-1]).hexdigest()[:12]
            print(f"input {name}: {photo.width}x{photo.height}, {len(inputs[-1]):,} bytes, sha256 {digest}…")
    return inputs


def make_photo(seed: int = 12) -> Image.Image:
    """Draw a photo-like image: smooth colour field and gradient, shapes, lines, blur and sensor noise."""
    rng = random.Random(seed)
    colours = Image.new("RGB", (8, 6))
    colours.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(48)])
    gradient = Image.linear_gradient("L").rotate(30).resize(PHOTO_SIZE).convert("RGB")
    photo = Image.blend(colours.resize(PHOTO_SIZE, Image.Resampling.BICUBIC), gradient, 0.3)
    draw = ImageDraw.Draw(photo)
    for _ in range(60):
        x, y, size = rng.randrange(PHOTO_SIZE[0]), rng.randrange(PHOTO_SIZE[1]), rng.randrange(40, 600)
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x, y, x + size, y + rng.randrange(40, 600)), fill=_random_colour(rng))
    for _ in range(40):
        ends = [rng.randrange(PHOTO_SIZE[i % 2]) for i in range(4)]
        draw.line(ends, fill=_random_colour(rng), width=rng.randrange(1, 12))
    photo = photo.filter(ImageFilter.GaussianBlur(1.2))
    # Mid-frequency texture (think foliage or fabric), then per-channel sensor noise; both centre on 128.
    texture = Image.effect_noise((PHOTO_SIZE[0] // 4, PHOTO_SIZE[1] // 4), 8)
    texture = texture.resize(PHOTO_SIZE, Image.Resampling.BICUBIC).convert("RGB")
    # effect_noise draws from C rand(), which starts from the same seed in every process: the printed
    # input hashes show whether two runs measured the same images.
    noise = Image.merge("RGB", [Image.effect_noise(PHOTO_SIZE, 5.5) for _ in range(3)])
    return ImageChops.add(ImageChops.add(photo, texture, offset=-128), noise, offset=-128)


def _random_colour(rng: random.Random) -> tuple[int, int, int]:
    """Return a random RGB colour."""
    return rng.randrange(256), rng.randrange(256), rng.randrange(256)


def choose_variants(alternatives: bool) -> dict[str, Variant]:
    """Return the variants to run by name: naive, photogate, and optionally other AVIF settings."""
    chosen = RenderSettings()
    variants: dict[str, Variant] = {"naive": naive, "photogate": functools.partial(photogate, chosen)}
    if alternatives:
        for codec, speeds in ALTERNATIVE_SPEEDS.items():
            for speed in speeds:
                for quality in ALTERNATIVE_QUALITIES:
                    encoder = replace(chosen.avif, codec=codec, speed=speed, quality=quality)
                    if encoder != chosen.avif:
                        settings = replace(chosen, avif=encoder)
                        variants[f"{codec} s{speed} q{quality}"] = functools.partial(photogate, settings)
    return variants


def naive(data: bytes) -> tuple[bytes, Image.Image]:
    """Each output from a fresh full decode, LANCZOS from full size, Pillow's default AVIF settings."""
    _jpeg(_naive_fit(_naive_open(data), 320))
    processed_input = _naive_fit(_naive_open(data), 2048)
    buffer = io.BytesIO()
    processed_input.save(buffer, "AVIF")
    _jpeg(_naive_fit(Image.open(io.BytesIO(buffer.getvalue())), 320))
    return buffer.getvalue(), processed_input


def _naive_open(data: bytes) -> Image.Image:
    """Decode at full size and orient the full image."""
    return ImageOps.exif_transpose(Image.open(io.BytesIO(data)))


def _naive_fit(im: Image.Image, side: int) -> Image.Image:
    """Resize from whatever size to fit within side x side with LANCZOS."""
    ratio = side / max(im.size)
    return im.resize((round(im.width * ratio), round(im.height * ratio)), Image.Resampling.LANCZOS)


def _jpeg(im: Image.Image) -> bytes:
    """Encode as JPEG q85."""
    buffer = io.BytesIO()
    im.convert("RGB").save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def photogate(settings: RenderSettings, data: bytes) -> tuple[bytes, Image.Image]:
    """The product's pipeline with the given settings."""
    derivatives = make_derivatives(data, settings)
    return derivatives.processed.data, derivatives.pixels


def run_rounds(variants: dict[str, Variant], inputs: list[bytes], rounds: int) -> dict[str, Samples]:
    """Run one untimed warm-up round, then the measured rounds, in a random order each round."""
    results = {name: Samples() for name in variants}
    order = list(variants)
    rng = random.Random(7)
    for round_number in range(-1, rounds):
        rng.shuffle(order)
        data = inputs[round_number % len(inputs)]
        for name in order:
            _measure(variants[name], data, results[name] if round_number >= 0 else Samples())
        progress = f"round {round_number + 1}/{rounds}" if round_number >= 0 else "warm-up round"
        print(f"{progress} done", file=sys.stderr)
    return results


def _measure(variant: Variant, data: bytes, samples: Samples) -> None:
    """Time one call in CPU and wall time, then record the AVIF's size and PSNR (untimed)."""
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    avif, encoder_input = variant(data)
    samples.cpu_ms.append((time.process_time() - cpu_start) * 1000)
    samples.wall_ms.append((time.perf_counter() - wall_start) * 1000)
    samples.avif_bytes.append(len(avif))
    samples.psnr_db.append(psnr(encoder_input, avif))


def psnr(reference: Image.Image, encoded: bytes) -> float:
    """PSNR in dB of an encoded image against the pixels it was encoded from."""
    decoded = Image.open(io.BytesIO(encoded)).convert(reference.mode)
    squared_errors = [rms**2 for rms in ImageStat.Stat(ImageChops.difference(reference, decoded)).rms]
    mse = statistics.fmean(squared_errors)
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def print_table(results: dict[str, Samples]) -> None:
    """Print medians, photos/s per core, ratios to naive, and the processed AVIF's size and PSNR."""
    naive = results["naive"]
    naive_cpu, naive_wall = statistics.median(naive.cpu_ms), statistics.median(naive.wall_ms)
    print(f"\nphotogate = {RenderSettings()}; naive = Pillow's AVIF defaults (quality 75, speed 6, all CPUs)")
    print(
        f"{'variant':<20} {'wall ms':>8} {'CPU ms':>8} {'CPU/wall':>8} {'photos/s/core':>13} "
        f"{'naive/this CPU':>14} {'wall':>6} {'AVIF KiB':>8} {'PSNR dB':>7}"
    )
    for name, samples in results.items():
        cpu, wall = statistics.median(samples.cpu_ms), statistics.median(samples.wall_ms)
        print(
            f"{name:<20} {wall:>8.1f} {cpu:>8.1f} {cpu / wall:>8.2f} {1000 / cpu:>13.2f} "
            f"{naive_cpu / cpu:>13.2f}x {naive_wall / wall:>5.2f}x "
            f"{statistics.median(samples.avif_bytes) / 1024:>8.1f} {statistics.median(samples.psnr_db):>7.2f}"
        )
    print(
        f"(medians over {len(naive.cpu_ms)} rounds; CPU = time.process_time, all threads; "
        "PSNR of the AVIF against its own encoder input)\n"
    )


def measure_formats(photo: Image.Image, rounds: int) -> dict[str, dict[str, list[float]]]:
    """CPU ms of validation, full decode and the whole pipeline, per format, in interleaved rounds."""
    orientation = Image.Exif()
    orientation[ExifTags.Base.Orientation] = 6
    encoded = {"JPEG q90": io.BytesIO(), "AVIF q60": io.BytesIO()}
    photo.save(encoded["JPEG q90"], "JPEG", quality=90, exif=orientation)
    photo.save(encoded["AVIF q60"], "AVIF", quality=60, exif=orientation)
    files = {name: buffer.getvalue() for name, buffer in encoded.items()}
    files["HEIC q60"] = heic_bytes(photo, 6, quality=60)
    limits = UploadLimits(max_pixels=89_478_485, max_frames=1000, decode_budget=decode_budget(128 * 2**20))
    steps = {
        "validation": lambda data: inspect_upload(io.BytesIO(data), limits),
        "full decode": lambda data: Image.open(io.BytesIO(data)).load(),
        "pipeline": make_derivatives,
    }
    costs = {name: {step: [] for step in steps} for name in files}
    order = list(files)
    rng = random.Random(11)
    for _ in range(rounds):
        rng.shuffle(order)
        for name in order:
            for step, run in steps.items():
                start = time.process_time()
                run(files[name])
                costs[name][step].append((time.process_time() - start) * 1000)
    for name, data in files.items():
        print(f"input {name}: {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]}, {len(data):,} bytes")
    return costs


def print_format_costs(costs: dict[str, dict[str, list[float]]]) -> None:
    """Print each format's median CPU ms per step and its ratio to the JPEG."""
    jpeg = costs["JPEG q90"]
    print(f"\n{'12 MP, CPU ms':<14} " + " ".join(f"{step:>22}" for step in jpeg))
    for name, steps in costs.items():
        cells = []
        for step, samples in steps.items():
            median = statistics.median(samples)
            cells.append(f"{median:>11.1f} ({median / statistics.median(jpeg[step]):>6.2f}x)")
        print(f"{name:<14} " + " ".join(f"{cell:>22}" for cell in cells))
    print(f"(medians over {len(jpeg['pipeline'])} interleaved rounds; ratios to the JPEG)")


def judge(naive_samples: Samples, photogate_samples: Samples) -> list[str]:
    """Return why photogate misses its targets, if it does."""
    cpu = statistics.median(photogate_samples.cpu_ms)
    cpu_per_wall = cpu / statistics.median(photogate_samples.wall_ms)
    ratio = statistics.median(naive_samples.cpu_ms) / cpu
    failures = []
    if 1000 / cpu < TARGET_PER_CORE:
        failures.append(f"photogate does {1000 / cpu:.2f} photos/s per core, target {TARGET_PER_CORE}")
    if ratio < TARGET_RATIO:
        failures.append(f"photogate is {ratio:.2f}x faster than naive in CPU, target {TARGET_RATIO}x")
    if cpu_per_wall > MAX_CPU_PER_WALL:
        failures.append(f"photogate used {cpu_per_wall:.2f} CPU seconds per wall second: not single-threaded")
    return failures


if __name__ == "__main__":
    sys.exit(main())
