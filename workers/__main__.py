"""`python -m workers`: an RQ worker (with its scheduler, for retries with backoff) for photogate's queue."""

import argparse
import os

from webapp import commit_without_fsync, create_app
from webapp.extensions import db
from webapp.imaging.reading import register_formats
from webapp.providers import registry
from webapp.queue import photo_queue, redis_connection
from workers import jobs
from workers.worker import PhotogateJob, PhotogateWorker


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m workers", description=__doc__)
    parser.add_argument("--burst", action="store_true", help="Quit once the queue is empty.")
    parser.add_argument("--name", help="Worker name (default: RQ's own).")
    args = parser.parse_args(argv)

    app = create_app()
    with app.app_context():
        commit_without_fsync(db.engine)
        _dispose_pools_in_work_horses()
        registry.get(app.config["MODERATION_PROVIDER"]).preload()
        # Pillow loads its format plugins on the first image it opens: in the parent, once, rather
        # than in each work horse (~30 ms).
        register_formats()
        config = app.config
        worker = PhotogateWorker(
            [photo_queue()],
            connection=redis_connection(),
            job_class=PhotogateJob,
            name=args.name,
            work_horse_killed_handler=jobs.work_horse_killed,
            worker_ttl=config["WORKER_TTL"],
            job_monitoring_interval=config["JOB_MONITORING_INTERVAL"],
            maintenance_interval=config["MAINTENANCE_INTERVAL"],
            jobs_per_horse=config["JOBS_PER_WORK_HORSE"],
        )
        worker.work(burst=args.burst, with_scheduler=True, logging_level=app.config["LOG_LEVEL"])


def _dispose_pools_in_work_horses() -> None:
    """Jobs run in a forked work horse: it must open its own database connections, not share ours."""
    engines = list(db.engines.values())
    os.register_at_fork(after_in_child=lambda: [engine.dispose(close=False) for engine in engines])


if __name__ == "__main__":
    main()
