"""Benchmark what decoder bombs cost upload validation (issue 18), before and now.

    .venv/bin/python -m bench.decode_bombs [--repeats 5] [--scans-corpus ../shared/corpus]

- memory: validating a flat 9400x9400 progressive 4:4:4 JPEG (1.5 MB) with the web's budget
  (VALIDATION_MEMORY_BYTES, 128 MiB by default): the process's peak resident memory, and how far
  above what it held before (the kernel's high-water mark, reset first). "Before" counts the
  decode as the old model did: the drafted output only, not the coefficient buffers libjpeg keeps.
  Target: within the budget.
- time to refuse: a 1,000-scan JPEG (4000x4000) and a GIF of a million 1x1 frames, medians of
  `--repeats`; "before" decodes the scans (once) and has Pillow count every frame.
- frames: how long opening and counting takes for each animated format with very many tiny frames.
- scans: the largest scan count among the corpus's JPEGs and what encoders write, against MAX_SCANS.
"""

import argparse
import gc
import io
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from PIL import Image

from webapp.imaging import InvalidImage, UploadLimits, decode_budget, inspect_upload, validation
from webapp.imaging.budget import decode_cost
from webapp.imaging.jpeg import MAX_SCANS, read_picture
from webapp.testing.bombs import gif_of_frames, progressive_jpeg, scan_bomb

MIB = 1024 * 1024
BUDGET = 128 * MIB
LIMITS = UploadLimits(89_478_485, 1000, decode_budget(BUDGET))


@contextmanager
def old_model() -> Iterator[None]:
    """Validation as it was: the drafted output counted, no scan limit, Pillow counting every frame."""
    now = (validation.decode_cost, validation.read_picture, validation.count_frames)
    validation.decode_cost = lambda im, jpeg=None: decode_cost(im)
    validation.read_picture = lambda stream: read_picture(stream, 10**9)
    validation.count_frames = lambda im, stream, limit: getattr(im, "n_frames", 1)
    try:
        yield
    finally:
        validation.decode_cost, validation.read_picture, validation.count_frames = now


def validation_peak_mib(data: bytes) -> tuple[float, float, bool]:
    """Resident memory before validating and its peak while validating (the kernel's high-water
    mark), in MiB, and whether the image was decoded."""
    gc.collect()
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # the high-water mark starts again from the current RSS
    start = _status_kib("VmRSS")
    info = inspect_upload(io.BytesIO(data), LIMITS)
    return start / 1024, _status_kib("VmHWM") / 1024, info.fully_decoded


def _status_kib(field: str) -> int:
    return int(Path("/proc/self/status").read_text().split(f"{field}:")[1].split()[0])


def refuse_seconds(data: bytes, repeats: int) -> tuple[float, str]:
    """Median seconds validation takes to answer, and its answer (the refusal's code)."""
    times, answer = [], "accepted"
    for _ in range(repeats):
        start = time.perf_counter()
        try:
            inspect_upload(io.BytesIO(data), LIMITS)
        except InvalidImage as refusal:
            answer = refusal.code
        times.append(time.perf_counter() - start)
    return statistics.median(times), answer


def frames_seconds() -> None:
    """Validate each animated format made of very many tiny frames, with the default frame limit."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    tiny = [Image.new("RGB", (16, 16), (n % 256, n // 256 % 256, 0)) for n in range(20_000)]
    made = {"GIF": (gif_of_frames(1_000_000), 1_000_000)}
    for fmt, count, params in (
        ("WEBP", 20_000, {"lossless": True}),
        ("PNG", 20_000, {}),
        ("AVIF", 2_000, {"speed": 10}),
        ("HEIF", 300, {"quality": 10}),
    ):
        buffer = io.BytesIO()
        tiny[0].save(buffer, fmt, save_all=True, append_images=tiny[1:count], **params)
        made[fmt] = (buffer.getvalue(), count)
    for fmt, (data, count) in made.items():
        seconds, answer = refuse_seconds(data, 3)
        size = f"{count:,} frames ({len(data) / MIB:.1f} MiB)"
        print(f"  {fmt:4} {size:>28}: {answer} in {seconds * 1000:.1f} ms")


def scans(corpus: Path | None) -> None:
    found = {}
    if corpus is not None:
        for path in sorted(corpus.rglob("*")):
            if path.is_file() and path.read_bytes()[:3] == b"\xff\xd8\xff":
                found[str(path.relative_to(corpus))] = read_picture(
                    io.BytesIO(path.read_bytes()), 10**9
                ).scans
        print(f"  corpus: {len(found)} JPEGs, most scans {max(found.values())} ({max(found, key=found.get)})")
    noise = Image.effect_noise((512, 384), 60).convert("RGB")
    written = {}
    for mode in ("RGB", "L", "CMYK"):
        buffer = io.BytesIO()
        noise.convert(mode).save(buffer, "JPEG", progressive=True)
        written[f"Pillow progressive {mode}"] = buffer.getvalue()
        if shutil.which("jpegtran"):
            baseline = io.BytesIO()
            noise.convert(mode).save(baseline, "JPEG")
            result = subprocess.run(
                ["jpegtran", "-optimize", "-progressive"], input=baseline.getvalue(), capture_output=True
            )
            written[f"jpegtran -progressive {mode}"] = result.stdout
    for name, data in written.items():
        print(f"  {name}: {read_picture(io.BytesIO(data), 10**9).scans} scans")
    print(f"  limit (MAX_SCANS): {MAX_SCANS}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--scans-corpus", type=Path, default=None)
    args = parser.parse_args()
    big = progressive_jpeg((9400, 9400))
    print(
        f"memory: validating a 9400x9400 progressive 4:4:4 JPEG of {len(big) / MIB:.1f} MiB, budget 128 MiB"
    )
    for label, model in (("before", old_model()), ("now", nullcontext())):
        with model:
            start, peak, decoded = validation_peak_mib(big)
        outcome = "decoded" if decoded else "headers checked only"
        print(f"  {label:6}: peak RSS {peak:6.1f} MiB from {start:.1f} (+{peak - start:.1f}), {outcome}")
    print(f"time to refuse, median of {args.repeats} runs (before: one run)")
    for name, data in (
        ("1,000-scan 4000x4000 JPEG", scan_bomb((4000, 4000), 1000)),
        ("1,000,000-frame GIF", gif_of_frames(1_000_000)),
    ):
        now, answer = refuse_seconds(data, args.repeats)
        with old_model():
            old, old_answer = refuse_seconds(data, 1)
        print(f"  {name} ({len(data) / MIB:.1f} MiB): now {answer} in {now * 1000:.1f} ms;", end="")
        print(f" before {old_answer} in {old * 1000:.0f} ms ({old / now:,.0f}x)")
    print("frames: animated formats with very many tiny frames")
    frames_seconds()
    print("scans")
    scans(args.scans_corpus)
    return 0


if __name__ == "__main__":
    sys.exit(main())
