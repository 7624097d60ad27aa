"""`python -m workers`: an RQ worker (with its scheduler, for retries with backoff) for photogate's queue."""

import argparse
import gc
import logging
import os

from PIL import Image
from rq import Worker
from sqlalchemy.exc import SQLAlchemyError

from webapp import create_app
from webapp.extensions import db
from webapp.moderation import providers
from webapp.queue import photo_queue, redis_connection
from webapp.services import bank_index
from workers import jobs

log = logging.getLogger(__name__)


class PhotogateWorker(Worker):
    """RQ's worker, forking each job from a parent that is ready for it.

    The bank index is brought up to date before each fork: every job starts from it, and what a
    job adds to its own copy ends with its process. The parent's objects are frozen out of the
    garbage collector across the fork: a job's full collections would otherwise walk the whole
    inherited heap (Flask, SQLAlchemy, ONNX Runtime, FAISS) and copy every page they touch, ~75 ms
    a photo (measured with bench/throughput.py).
    """

    def execute_job(self, job, queue):
        _refresh_bank_index()
        return super().execute_job(job, queue)

    def fork_work_horse(self, job, queue):
        gc.freeze()
        try:
            super().fork_work_horse(job, queue)
        finally:
            # Only the parent gets here (the job's process exits inside): it collects as before.
            gc.unfreeze()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m workers", description=__doc__)
    parser.add_argument("--burst", action="store_true", help="Quit once the queue is empty.")
    parser.add_argument("--name", help="Worker name (default: RQ's own).")
    args = parser.parse_args(argv)

    app = create_app()
    with app.app_context():
        _dispose_pools_in_forked_jobs()
        providers.get(app.config["MODERATION_PROVIDER"]).preload()
        # Pillow loads its format plugins on the first image it opens: in the parent, once, rather
        # than in every job's process (~30 ms a job).
        Image.init()
        _refresh_bank_index()
        config = app.config
        worker = PhotogateWorker(
            [photo_queue()],
            connection=redis_connection(),
            name=args.name,
            work_horse_killed_handler=jobs.work_horse_killed,
            worker_ttl=config["WORKER_TTL"],
            job_monitoring_interval=config["JOB_MONITORING_INTERVAL"],
            maintenance_interval=config["MAINTENANCE_INTERVAL"],
        )
        worker.work(burst=args.burst, with_scheduler=True, logging_level=app.config["LOG_LEVEL"])


def _refresh_bank_index() -> None:
    try:
        bank_index.current()
    except SQLAlchemyError:
        # The job's own lookup tries again, and is retried with its job if the database stays down.
        log.warning("bank index not refreshed: the database did not answer", exc_info=True)


def _dispose_pools_in_forked_jobs() -> None:
    """Each job runs in a forked child: it must open its own database connections, not share ours."""
    engines = list(db.engines.values())
    os.register_at_fork(after_in_child=lambda: [engine.dispose(close=False) for engine in engines])


if __name__ == "__main__":
    main()
