"""`python -m workers.cron`: RQ's cron scheduler, queueing the reconciler every RECONCILE_EVERY seconds.

Run one per deployment (more are harmless: the reconciler is idempotent). It keeps its schedule in
its own memory, so it goes on after Redis loses its data, which is when it is needed most.
"""

from rq.cron import CronScheduler

from webapp import create_app
from webapp.queue import redis_connection
from workers import jobs


def main() -> None:
    app = create_app()
    with app.app_context():
        scheduler = CronScheduler(connection=redis_connection(), logging_level=app.config["LOG_LEVEL"])
        scheduler.register(
            jobs.reconcile, app.config["QUEUE_NAME"], interval=app.config["RECONCILE_EVERY"], result_ttl=0
        )
        scheduler.start()


if __name__ == "__main__":
    main()
