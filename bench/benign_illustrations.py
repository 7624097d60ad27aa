"""How often the local model flags benign generated illustrations, without and with its flat-colour discount.

    .venv/bin/python -m bench.benign_illustrations [--count 500] [--seed 0] [--jpeg QUALITY]
        [--corpus ../shared/corpus]

Illustrations with no people in them are drawn in memory, deterministically from the seed, in turn of
five kinds (bench/illustrations.py): landscapes (sky gradient, sun, mountains, trees), sunsets (a large
orange sun low over the sea), flat-colour shapes, cartoon objects (houses, balloons, fruit, cars) and
stripes and dots. Each is moderated as the worker moderates a photo's decoded pixels, twice: `before`
turns the model's detections straight into labels (`labels_from_detections`), `after` runs
`LocalModel.moderate`, which discounts a body part found in a box of flat colour first
(webapp/providers/local.py). Both answers go through the policy in force (`MODERATION_FLAG` /
`MODERATION_REJECT`, else the defaults). One line per photo flagged (or rejected) either way, with its
mapped detections: class, score as the model gave it and as counted, box size, share of the picture,
aspect, centre, and flat share. The summary gives the flag rates, the median wall ms per photo of each
path (in alternating order) and the cost of the check alone.

`--jpeg QUALITY` saves each illustration as a JPEG at that quality and decodes it as the worker does:
the check counts only identical neighbours as one colour, so a JPEG's ringing around stripes escapes it.
`--corpus DIR` also runs the `good` files of a corpus folder (its MANIFEST.tsv), decoded as the worker
decodes them (`make_derivatives`), read from there and never copied; none of them may flag (else the
exit status is 1).
"""

import argparse
import csv
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from bench.illustrations import illustrations
from webapp import create_app
from webapp.imaging import make_derivatives
from webapp.models import ModerationStatus
from webapp.providers import registry
from webapp.providers.local import (
    TAXONOMY,
    LocalModel,
    flat_share,
    labels_from_detections,
    load_model,
    weighed,
)
from webapp.providers.policy import Policy


@dataclass
class Tally:
    """What one set of photos did, each path: photos flagged (or rejected), and wall ms per photo."""

    photos: int = 0
    flagged: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PATHS, 0))
    ms: dict[str, list[float]] = field(default_factory=lambda: {path: [] for path in PATHS})
    check_ms: list[float] = field(default_factory=list)


def main() -> int:
    """Moderate the illustrations (and the corpus' good photos) both ways; print the flags and the costs."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=500, help="illustrations to generate (default 500)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jpeg", type=int, metavar="QUALITY", help="save each illustration as a JPEG first")
    parser.add_argument("--corpus", type=Path, help="a folder with a MANIFEST.tsv whose good files must pass")
    args = parser.parse_args()
    policy = policy_in_force()
    model = load_model()
    pictures = illustrations(args.count, args.seed)
    if args.jpeg:
        pictures = ((name, as_jpeg(pixels, args.jpeg)) for name, pixels in pictures)
    tally = run(model, policy, pictures)
    summarise(
        f"{args.count} illustrations (seed {args.seed}{f', JPEG q{args.jpeg}' if args.jpeg else ''})", tally
    )
    if args.corpus is None:
        return 0
    photos = run(model, policy, good_photos(args.corpus))
    summarise(f"{photos.photos} good photos of {args.corpus}", photos)
    return 1 if any(photos.flagged.values()) else 0


def policy_in_force() -> Policy:
    """The worker's policy: the thresholds of the environment's configuration, else the defaults."""
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"PHOTOGATE_INSTANCE_PATH": instance})
        with app.app_context():
            return registry.policy()


def as_jpeg(pixels: Image.Image, quality: int) -> Image.Image:
    """The pixels saved as a JPEG and decoded as the worker decodes an upload."""
    data = io.BytesIO()
    pixels.save(data, "JPEG", quality=quality)
    return make_derivatives(data.getvalue()).pixels


def good_photos(corpus: Path) -> Iterator[tuple[str, Image.Image]]:
    """The corpus' good files, read where they are and decoded as the worker decodes an upload."""
    with open(corpus / "MANIFEST.tsv", newline="") as manifest:
        rows = [row for row in csv.DictReader(manifest, delimiter="\t") if row["class"] == "good"]
    for row in rows:
        yield row["path"], make_derivatives((corpus / row["path"]).read_bytes()).pixels


def run(model: LocalModel, policy: Policy, pictures: Iterator[tuple[str, Image.Image]]) -> Tally:
    """Moderate each picture both ways, the order alternating so that noise hits both alike."""
    tally = Tally()
    for name, pixels in pictures:
        tally.photos += 1
        verdicts, detections = {}, {}
        for path in list(PATHS)[:: 1 if tally.photos % 2 else -1]:
            start = time.perf_counter()
            labels, detections[path] = PATHS[path](model, pixels)
            tally.ms[path].append((time.perf_counter() - start) * 1000)
            verdicts[path] = policy.verdict(labels)
            tally.flagged[path] += verdicts[path] is not ModerationStatus.APPROVED
        start = time.perf_counter()
        weighed(detections["before"], pixels)
        tally.check_ms.append((time.perf_counter() - start) * 1000)
        if any(verdict is not ModerationStatus.APPROVED for verdict in verdicts.values()):
            outcome = ", ".join(f"{verdicts[path].value} {path}" for path in PATHS)
            print(f"{name} {pixels.width}x{pixels.height}: {outcome}")
            for detection in detections["after"]:
                if detection["class"] in TAXONOMY:
                    print("    " + describe(detection, pixels))
    return tally


def before(model: LocalModel, pixels: Image.Image) -> tuple[list[dict], list[dict]]:
    """The labels of the model's detections taken as they come, and the detections."""
    detections = model.detect(pixels)
    return labels_from_detections(detections), detections


def after(model: LocalModel, pixels: Image.Image) -> tuple[list[dict], list[dict]]:
    """The labels the worker stores, and the detections they count."""
    result = model.moderate(pixels)
    return result.labels, result.answer["LocalModelOutput"]["detections"]


PATHS = {"before": before, "after": after}


def describe(detection: dict, pixels: Image.Image) -> str:
    """A detection's class, score, and its box's size, aspect, position and flat share."""
    left, top, width, height = detection["box"]
    area = width * height / (pixels.width * pixels.height)
    centre = ((left + width / 2) / pixels.width, (top + height / 2) / pixels.height)
    share = flat_share(pixels, detection["box"])
    return (
        f"{detection['class']} {detection.get('model_score', detection['score']):.3f} -> "
        f"{detection['score']:.3f}  box {width}x{height} ({area:.0%} of the picture, aspect "
        f"{width / max(height, 1):.2f}, centre at {centre[0]:.2f},{centre[1]:.2f})  "
        f"flat {'-' if share is None else f'{share:.0%}'}"
    )


def summarise(title: str, tally: Tally) -> None:
    """Print the rates and the median costs."""
    print(f"\n{title}:")
    for path, flagged in tally.flagged.items():
        print(f"  {path:6} {flagged:4} flagged or rejected ({flagged / tally.photos:.2%})")
    before_ms, after_ms = (statistics.median(tally.ms[path]) for path in PATHS)
    print(f"  median ms per photo: before {before_ms:.1f}, after {after_ms:.1f}")
    print(
        f"  the flat-box check alone: median {statistics.median(tally.check_ms):.3f} ms, "
        f"mean {statistics.mean(tally.check_ms):.3f} ms, most {max(tally.check_ms):.2f} ms per photo"
    )


if __name__ == "__main__":
    sys.exit(main())
