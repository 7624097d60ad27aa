"""Run a real-world image corpus through upload validation and the derivative pipeline, in process.

    .venv/bin/python -m bench.corpus ../shared/corpus [--verbose]

(`.venv/bin/python bench/corpus.py ../shared/corpus`, from the repository root, runs the same.)

DIR holds image files and a MANIFEST.tsv that classifies each one (`path`, `class`, `upright_wxh`):
- good: accepted, processed, and the processed AVIF upright (compared with Pillow's own
  `ImageOps.exif_transpose` of the full decode) and free of metadata;
- bad: refused at upload with a 4xx;
- unsure: refused with a 4xx, or accepted and ending processed or failed with a reason.
Anything else a file does is a deviation: an error that is not a refusal (a 5xx, a crashed job),
a wrong size or orientation, or more than 10 s. Validation runs with the settings the web process
uses (the environment, else the embedded defaults). One line per file: class, outcome, seconds,
and the peak resident memory above what the process held before (validation / rendering), read
from the kernel's high-water mark, which is reset before each step. The summary ends with each
deviation; the exit status is non-zero when there is one.
"""

import argparse
import csv
import io
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageChops, ImageOps, ImageStat

ROOT = Path(__file__).resolve().parents[1]
if __name__ == "__main__" and not __package__:
    # Run by its path (as a hook outside this repository runs it), Python puts bench/ on sys.path, not
    # the repository root, so webapp would not import: become `python -m bench.corpus` with the same
    # arguments. Only from the root, where -m finds bench; changing directory to get there would
    # change what relative paths in the arguments mean.
    if Path.cwd().resolve() != ROOT:
        sys.exit(f"Run it from the repository root ({ROOT}): python -m bench.corpus DIR")
    os.execv(sys.executable, [sys.executable, "-m", "bench.corpus", *sys.argv[1:]])

from webapp.config import settings_from_environment  # noqa: E402
from webapp.imaging import (  # noqa: E402
    InvalidImage,
    RenderSettings,
    UploadLimits,
    decode_budget,
    inspect_upload,
    make_derivatives,
)
from webapp.imaging.reading import reading  # noqa: E402

MAX_SECONDS = 10.0
# Mean absolute difference (0-255, greyscale) between our processed AVIF and the reference above
# which the picture is not the same way up: a quarter turn of any photo is far beyond it.
MAX_UPRIGHT_DIFFERENCE = 24.0
METADATA_KEYS = ("exif", "xmp", "icc_profile", "comment")


@dataclass
class Result:
    """What one file did."""

    path: str
    expected: str
    outcome: str = ""
    detail: str = ""
    seconds: float = 0.0
    validation_mib: float = 0.0
    rendering_mib: float = 0.0
    peak_rss_kib: int = 0
    problems: list[str] = field(default_factory=list)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("corpus", type=Path, help="a folder with a MANIFEST.tsv")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as instance:
        config = settings_from_environment(Path(instance))
    limits = UploadLimits(
        max_pixels=config["MAX_IMAGE_PIXELS"],
        max_frames=config["MAX_IMAGE_FRAMES"],
        decode_budget=decode_budget(config["VALIDATION_MEMORY_BYTES"]),
    )
    settings = RenderSettings(max_side=config["PROCESSED_MAX_SIDE"], thumbnail_side=config["THUMBNAIL_SIDE"])
    with open(args.corpus / "MANIFEST.tsv", newline="") as manifest:
        rows = list(csv.DictReader(manifest, delimiter="\t"))
    idle = _memory_kib("VmRSS")
    results = []
    for row in rows:
        result = run_file(args.corpus / row["path"], row, limits, settings)
        results.append(result)
        print(_line(result), flush=True)
    summarise(results, max(r.peak_rss_kib for r in results) - idle)
    return 1 if any(result.problems for result in results) else 0


def run_file(path: Path, row: dict[str, str], limits: UploadLimits, settings: RenderSettings) -> Result:
    """Validate one file as an upload would, then render it as the worker would; judge both."""
    result = Result(row["path"], row["class"])
    data = path.read_bytes()
    start = time.perf_counter()
    baseline = _reset_peak()
    try:
        info = inspect_upload(io.BytesIO(data), limits)
    except InvalidImage as refusal:
        result.outcome, result.detail = "refused", f"{refusal.status} {refusal.code}"
    except Exception as crash:
        result.outcome, result.detail = "crashed", f"upload would answer 500: {type(crash).__name__}: {crash}"
    result.validation_mib = _peak_mib(baseline)
    result.peak_rss_kib = _memory_kib("VmHWM")
    if not result.outcome:
        baseline = _reset_peak()
        _render(data, info.width, info.height, settings, result)
        result.rendering_mib = _peak_mib(baseline)
        result.peak_rss_kib = max(result.peak_rss_kib, _memory_kib("VmHWM"))
    result.seconds = time.perf_counter() - start
    _judge(result, row)
    return result


def _render(data: bytes, width: int, height: int, settings: RenderSettings, result: Result) -> None:
    """Make the derivatives and check the processed AVIF against the file's upright reference."""
    try:
        derivatives = make_derivatives(data, settings)
    except InvalidImage as failure:
        result.outcome, result.detail = "failed", f"worker: {failure.message}"
        return
    except Exception as crash:
        result.outcome, result.detail = "crashed", f"worker raised {type(crash).__name__}: {crash}"
        return
    processed = Image.open(io.BytesIO(derivatives.processed.data))
    result.outcome = "completed"
    result.detail = f"{width}x{height} -> {processed.width}x{processed.height}"
    kept = [key for key in METADATA_KEYS if processed.info.get(key)]
    if kept:
        result.problems.append(f"metadata kept in processed.avif: {', '.join(kept)}")
    difference = _difference_from_upright(data, processed)
    if difference > MAX_UPRIGHT_DIFFERENCE:
        result.problems.append(f"processed.avif is not upright (mean difference {difference:.0f})")


def _difference_from_upright(data: bytes, processed: Image.Image) -> float:
    """Mean greyscale difference between the processed AVIF and Pillow's exif_transpose of the file."""
    with reading(io.BytesIO(data)) as source:
        reference = ImageOps.exif_transpose(source)
        reference = _flattened(reference).resize(processed.size, Image.Resampling.BOX)
    return ImageStat.Stat(ImageChops.difference(reference, _flattened(processed))).mean[0]


def _flattened(im: Image.Image) -> Image.Image:
    """Greyscale on white, so transparency and colour management do not count, only the picture."""
    if im.mode.startswith("I"):
        im = im.convert("I").point(lambda value: value / 257).convert("L")  # 16-bit: convert() would clip
    rgba = im.convert("RGBA")
    white = Image.new("RGBA", rgba.size, "white")
    return Image.alpha_composite(white, rgba).convert("L")


def _judge(result: Result, row: dict[str, str]) -> None:
    """Add the ways the outcome deviates from what the manifest's class allows."""
    allowed = {"good": {"completed"}, "bad": {"refused"}, "unsure": {"refused", "completed", "failed"}}
    if result.outcome not in allowed[result.expected]:
        result.problems.append(f"{result.expected} file {result.outcome}: {result.detail}")
    upright = row.get("upright_wxh")
    if result.outcome == "completed" and upright and not result.detail.startswith(upright + " "):
        result.problems.append(f"recorded size {result.detail.split()[0]}, upright is {upright}")
    if result.seconds > MAX_SECONDS:
        result.problems.append(f"took {result.seconds:.1f} s")


def summarise(results: list[Result], peak_kib: int | None = None) -> None:
    print()
    for expected in ("good", "bad", "unsure"):
        outcomes = Counter(r.outcome for r in results if r.expected == expected)
        print(
            f"{expected:6} {sum(outcomes.values()):3} files: "
            + ", ".join(f"{n} {o}" for o, n in outcomes.items())
        )
    slowest = max(results, key=lambda r: r.seconds)
    hungriest = max(results, key=lambda r: r.validation_mib)
    print(f"slowest {slowest.seconds:.2f} s ({slowest.path}); total {sum(r.seconds for r in results):.1f} s")
    if peak_kib is not None:
        print(f"largest validation peak +{hungriest.validation_mib:.0f} MiB ({hungriest.path})")
        print(f"process peak RSS over idle +{peak_kib / 1024:.0f} MiB (validation and rendering)")
    deviations = [(r, problem) for r in results for problem in r.problems]
    for r, problem in deviations:
        print(f"DEVIATION {r.path}: {problem}")
    print(f"{len(deviations)} deviations from the manifest in {len(results)} files")


def _line(result: Result) -> str:
    memory = f"+{result.validation_mib:.0f}/{result.rendering_mib:.0f} MiB"
    flag = "  <-- " + "; ".join(result.problems) if result.problems else ""
    return (
        f"{result.expected:6} {result.outcome:9} {result.seconds:6.3f} s {memory:>13}  "
        f"{result.path}  {result.detail}{flag}"
    )


def _memory_kib(field_name: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field_name} in /proc/self/status")


def _reset_peak() -> int:
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS, and return that in KiB."""
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")
    return _memory_kib("VmRSS")


def _peak_mib(baseline_kib: int) -> float:
    return max(0, _memory_kib("VmHWM") - baseline_kib) / 1024


if __name__ == "__main__":
    sys.exit(main())
