"""A job run again after its worker was lost (its node gone): RQ 3.0 still lists that worker's execution
for a minute after the execution's own record has expired, and ending the new run must not trip on it."""

import time
import uuid

from rq.executions import ExecutionRegistry

from tests.support.factories import image_bytes, upload, wait_for, wait_until_terminal
from webapp.queue import enqueue_photo_processing, photo_queue, processing_job_id, redis_connection


def test_a_photo_run_again_after_its_worker_was_lost_ends_without_a_failure(
    app, client, user, parked, monkeypatch, service_env, worker
):
    session_id = uuid.UUID(upload(client, user.headers, image_bytes()).get_json()["session_id"])
    monkeypatch.setitem(app.config, "QUEUE_NAME", service_env["QUEUE_NAME"])
    with app.app_context():
        # What the lost worker left: its execution listed, the execution's record gone.
        lost = ExecutionRegistry(processing_job_id(session_id), connection=redis_connection())
        redis_connection().zadd(lost.key, {"lost-execution": time.time() + 60})
        enqueue_photo_processing(session_id)
        queue = photo_queue()

        assert wait_until_terminal(app, str(session_id)) == "completed"
        wait_for(
            lambda: (
                not (queue.count or queue.started_job_registry.count or queue.scheduled_job_registry.count)
            )
        )
        assert queue.failed_job_registry.get_job_ids() == []
