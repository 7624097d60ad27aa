"""Benchmark writing 10,000 moderation results back by virtual_image_id, on PostgreSQL.

    .venv/bin/python -m bench.writeback [--images 10000] [--rounds 3]

Side by side, in interleaved rounds on the same seeded job: photogate's set-based write
(`bulk_moderation.write_outcome`: one UPDATE … FROM unnest(…) plus one counters UPDATE) and a
row-at-a-time loop (`verdicts.record_result` per image, as a naive implementation would).
Target: ≤ 1 s for 10,000 results. The exit status is non-zero when it is missed.
"""

import argparse
import random
import sys
import tempfile
from pathlib import Path

from sqlalchemy import update

from bench.support import bench_app, median, seed_job, timed
from webapp.extensions import db
from webapp.models import BulkJob, BulkJobImage, ModerationStatus, VirtualImage
from webapp.providers import ModerationResult
from webapp.providers.rekognition_bulk import BulkOutcome
from webapp.services import verdicts
from webapp.services.moderation import bulk_moderation

TARGET_MS = 1000.0
LABELS = [
    [],
    [{"Name": "Explicit", "ParentName": "", "Confidence": 91.0, "TaxonomyLevel": 1}],
    [{"Name": "Swimwear or Underwear", "ParentName": "", "Confidence": 88.0, "TaxonomyLevel": 1}],
    [
        {
            "Name": "Non-Explicit Nudity of Intimate parts and Kissing",
            "ParentName": "",
            "Confidence": 61.0,
            "TaxonomyLevel": 1,
        }
    ],
]


def outcome_for(images: list) -> BulkOutcome:
    """Results for every image but one in fifty, which gets an error instead."""
    results = {
        image: ModerationResult(LABELS[n % len(LABELS)], "7.0", "rekognition")
        for n, image in enumerate(images)
        if n % 50
    }
    errors = {image: "INVALID_IMAGE: corrupt" for n, image in enumerate(images) if not n % 50}
    return BulkOutcome(results=results, errors=errors)


def reset(job_id, size: int) -> None:
    """Every image pending again, and the job's counters as before the write."""
    images = db.session.query(BulkJobImage.virtual_image_id).filter_by(job_id=job_id)
    db.session.execute(
        update(VirtualImage)
        .where(VirtualImage.id.in_(images))
        .values(moderation_status=ModerationStatus.PENDING)
    )
    db.session.execute(
        update(BulkJob)
        .where(BulkJob.id == job_id)
        .values(pending=size, approved=0, flagged=0, rejected=0, failed=0)
    )
    db.session.commit()


def row_at_a_time(outcome: BulkOutcome) -> None:
    for image, result in outcome.results.items():
        verdicts.record_result(image, result)
    for image, error in outcome.errors.items():
        verdicts.record_error(image, error)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, bench_app(Path(tmp)) as app, app.app_context():
        _, job_id, images = seed_job(args.images)
        outcome = outcome_for(images)
        variants = {
            "set-based (photogate)": lambda: bulk_moderation.write_outcome(job_id, outcome),
            "row at a time": lambda: row_at_a_time(outcome),
        }
        samples: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(args.rounds):
            for name in random.sample(list(variants), len(variants)):
                reset(job_id, args.images)
                samples[name].append(timed(variants[name]))
                job = db.session.get(BulkJob, job_id, populate_existing=True)
                assert job.pending == 0 and job.failed == args.images // 50, (name, job.pending, job.failed)
    fast, slow = (median(samples[name]) for name in variants)
    print(f"writing back {args.images:,} results on PostgreSQL, medians of {args.rounds} interleaved rounds")
    for name, values in samples.items():
        print(f"  {name:24} {median(values):9.1f} ms   (rounds: {', '.join(f'{v:.0f}' for v in values)})")
    print(f"  ratio row-at-a-time / set-based: {slow / fast:.1f}x")
    if fast > TARGET_MS:
        print(f"MISSED: set-based write took {fast:.0f} ms > {TARGET_MS:.0f} ms")
        return 1
    print(f"OK: set-based write ≤ {TARGET_MS:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
