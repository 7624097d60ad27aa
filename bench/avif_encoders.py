"""The processed AVIF's encoder: libavif's aom and SVT-AV1 at several settings, side by side.

    .venv/bin/python -m bench.avif_encoders [CORPUS_DIR] [--photos DIR] [--generated 3] [--rounds 3]

The inputs are the pixels the worker encodes (make_derivatives' `pixels`: upright, sRGB, at most
2048 px a side) of every JPEG a corpus's MANIFEST.tsv classes `good` (real camera photos, as
cameras and phones write them; the corpus's PNGs are mostly synthetic test patterns, some of them
lossless in AVIF), of every JPEG in `--photos` (say the photographs among Debian's
plasma-workspace-wallpapers, 2560x1600), and of `--generated` 12 MP photos of bench.pipeline. Each
encoder encodes every input once per round, in a shuffled order; its CPU ms is the median over
the rounds. Printed per set of inputs: the encoders' summed CPU ms and its ratio to today's
(aom, the first row), the mean bytes, the mean PSNR of the decoded AVIF against its input, and
whether it is no larger and no worse than today's on average.
"""

import argparse
import csv
import io
import math
import random
import statistics
import sys
import time
from pathlib import Path

from PIL import Image

from bench.pipeline import make_photo, psnr
from webapp.imaging import make_derivatives
from webapp.imaging.derivatives import AOM, SVT_AV1, AvifEncoder, encode_avif

CANDIDATES = [
    AOM,
    SVT_AV1,
    *(AvifEncoder("svt", quality, 10, min_side=4) for quality in (62, 64, 66, 68, 70)),
    AvifEncoder("svt", 60, 8, min_side=4),
]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("corpus", type=Path, nargs="?", help="a folder with a MANIFEST.tsv")
    parser.add_argument("--photos", type=Path, help="a folder of JPEG photos")
    parser.add_argument("--generated", type=int, default=3, help="generated 12 MP photos (default 3)")
    parser.add_argument("--rounds", type=int, default=3, help="encodes of each input (default 3)")
    args = parser.parse_args()
    inputs = {}
    if args.corpus:
        inputs["corpus JPEGs (good)"] = corpus_pixels(args.corpus)
    if args.photos:
        inputs[f"photos in {args.photos}"] = [
            make_derivatives(path.read_bytes()).pixels for path in sorted(args.photos.glob("*.jp*g"))
        ]
    if args.generated:
        inputs["generated 12 MP"] = [generated_pixels(seed) for seed in range(args.generated)]
    for name, pictures in inputs.items():
        sides = sorted(max(picture.size) for picture in pictures)
        print(f"\n{name}: {len(pictures)} images, longest side median {statistics.median(sides)} px")
        print_table(measure(pictures, args.rounds))
    return 0


def corpus_pixels(corpus: Path) -> list[Image.Image]:
    """What the worker encodes of each JPEG (or multi-picture JPEG) the corpus classes good."""
    with (corpus / "MANIFEST.tsv").open(newline="") as manifest:
        rows = [
            row
            for row in csv.DictReader(manifest, delimiter="\t")
            if row["class"] == "good" and row["pillow_format_mode"].split("/")[0] in ("JPEG", "MPO")
        ]
    return [make_derivatives((corpus / row["path"]).read_bytes()).pixels for row in rows]


def generated_pixels(seed: int) -> Image.Image:
    """What the worker encodes of a generated 12 MP photo, as a JPEG q90 would bring it."""
    buffer = io.BytesIO()
    make_photo(seed).save(buffer, "JPEG", quality=90)
    return make_derivatives(buffer.getvalue()).pixels


def measure(pictures: list[Image.Image], rounds: int) -> dict[AvifEncoder, dict[str, list[float]]]:
    """Per encoder and input, in the inputs' order: CPU ms (the median over rounds), bytes and PSNR."""
    cpu = {encoder: [[] for _ in pictures] for encoder in CANDIDATES}
    results = {
        encoder: {"bytes": [0.0] * len(pictures), "psnr": [0.0] * len(pictures)} for encoder in CANDIDATES
    }
    work = [(encoder, number) for encoder in CANDIDATES for number in range(len(pictures))]
    rng = random.Random(5)
    for round_number in range(rounds):
        rng.shuffle(work)
        for encoder, number in work:
            start = time.process_time()
            rendition = encode_avif(pictures[number], encoder)
            cpu[encoder][number].append((time.process_time() - start) * 1000)
            if round_number == 0:
                results[encoder]["bytes"][number] = len(rendition.data)
                results[encoder]["psnr"][number] = psnr(pictures[number], rendition.data)
        print(f"round {round_number + 1}/{rounds} done", file=sys.stderr)
    for encoder in CANDIDATES:
        results[encoder]["cpu"] = [statistics.median(samples) for samples in cpu[encoder]]
    return results


def print_table(results: dict[AvifEncoder, dict[str, list[float]]]) -> None:
    """One row per encoder; the PSNR mean leaves out images some encoder reproduced exactly."""
    today = results[AOM]
    lossy = [
        n for n in range(len(today["psnr"])) if all(math.isfinite(r["psnr"][n]) for r in results.values())
    ]
    if len(lossy) < len(today["psnr"]):
        print(
            f"  ({len(today['psnr']) - len(lossy)} images reproduced exactly by some encoder:"
            " not in the PSNR)"
        )

    def mean_psnr(result: dict[str, list[float]]) -> float:
        return statistics.fmean(result["psnr"][n] for n in lossy)

    print(
        f"  {'encoder':<24} {'CPU ms':>8} {'ratio':>6} {'mean KiB':>9} {'mean PSNR':>9}  no larger, no worse"
    )
    for encoder, result in results.items():
        cpu, size = sum(result["cpu"]), statistics.fmean(result["bytes"])
        holds = size <= statistics.fmean(today["bytes"]) and mean_psnr(result) >= mean_psnr(today)
        label = f"{encoder.codec} q{encoder.quality} speed {encoder.speed}"
        print(
            f"  {label:<24} {cpu:8.0f} {cpu / sum(today['cpu']):6.2f} {size / 1024:9.1f}"
            f" {mean_psnr(result):9.2f}"
            f"  {'yes' if holds else 'no'}"
        )


if __name__ == "__main__":
    sys.exit(main())
