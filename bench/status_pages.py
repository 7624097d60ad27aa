"""Benchmark the job status API and the job page's live fragment: a 10,000-image job vs a 100-image one.

    .venv/bin/python -m bench.status_pages [--requests 200]

Both jobs are seeded in one PostgreSQL database with their results written; requests alternate
between the two jobs (random order each round) through the app in this process, so both see the
same noise. Targets: median ≤ 20 ms per request for the big job, and no more than 1.5x the small
job's (the work grows with the page, not the job). The exit status is non-zero when one is missed.
"""

import argparse
import functools
import random
import sys
import tempfile
from pathlib import Path

from bench.support import bench_app, median, seed_job, timed
from bench.writeback import outcome_for
from webapp.extensions import db
from webapp.models import User
from webapp.services.accounts.users import issue_token
from webapp.services.moderation import bulk_moderation

TARGET_MS = 20.0
TARGET_RATIO = 1.5
SIZES = (10_000, 100)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=200, help="requests per endpoint and job size")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, bench_app(Path(tmp)) as app:
        with app.app_context():
            jobs = {size: _seeded(size) for size in SIZES}
        client = app.test_client()
        endpoints = {
            "status API": lambda size: _status(client, jobs[size]),
            "job page fragment": lambda size: _fragment(client, jobs[size]),
        }
        samples = {(name, size): [] for name in endpoints for size in SIZES}
        for _ in range(args.requests):
            for name, size in random.sample(list(samples), len(samples)):
                samples[(name, size)].append(timed(functools.partial(endpoints[name], size)))
    failures = []
    print(f"median ms per request over {args.requests} interleaved requests (page 1, 50 images a page)")
    for name in endpoints:
        big, small = median(samples[(name, SIZES[0])]), median(samples[(name, SIZES[1])])
        print(f"  {name:18}  10,000 images: {big:6.2f}   100 images: {small:6.2f}   ratio {big / small:.2f}x")
        if big > TARGET_MS or big / small > TARGET_RATIO:
            failures.append(name)
    if failures:
        print(f"MISSED for: {', '.join(failures)} (targets ≤ {TARGET_MS} ms and ≤ {TARGET_RATIO}x)")
        return 1
    print(f"OK: ≤ {TARGET_MS} ms and ≤ {TARGET_RATIO}x for both")
    return 0


def _seeded(size: int) -> tuple:
    """A job of `size` images with their results written, its owner's login (what Flask-Login keeps in
    the session) and the owner's API token."""
    user_id, job_id, images = seed_job(size)
    bulk_moderation.write_outcome(job_id, outcome_for(images))
    owner = db.session.get(User, user_id)
    return owner.get_id(), job_id, issue_token(owner)


def _status(client, job) -> None:
    _, job_id, token = job
    response = client.get(f"/api/bulk-nsfw/{job_id}/status", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and len(response.get_json()["images"]) == 50


def _fragment(client, job) -> None:
    login, job_id, _ = job
    with client.session_transaction() as session:
        session["_user_id"] = login
        session["_fresh"] = True
    response = client.get(f"/jobs/{job_id}", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("data-upload-order=") == 50


if __name__ == "__main__":
    sys.exit(main())
