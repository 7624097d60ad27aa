"""The worker's work horse: it outlives its job, yet a job that fails, crashes, hangs or is stopped
ends as it did when RQ forked a process per job, and the next job runs in a fresh horse.

Each test runs a real `python -m workers` on a queue of its own, with test jobs from
tests/support/horse_jobs.py and a horse that runs 3 jobs at most.
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from redis import Redis
from rq import Queue, Retry
from rq.command import send_stop_job_command
from rq.job import Job, JobStatus

from tests.support.factories import wait_for
from tests.support.faults import descendants, kill_tree
from tests.support.processes import running, start_worker, stop

JOBS = "tests.support.horse_jobs."
ENDED = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED}


@dataclass
class Horses:
    queue: Queue
    worker: object

    def run(self, name: str, *args, **options) -> Job:
        """Enqueue one of the test jobs and wait for it to end."""
        job = self.queue.enqueue(JOBS + name, *args, **options)
        return self.wait(job)

    def wait(self, job: Job) -> Job:
        wait_for(lambda: job.get_status(refresh=True) in ENDED, 30)
        job.refresh()
        return job

    def process_id(self) -> int:
        job = self.run("process_id")
        assert job.get_status() == JobStatus.FINISHED
        return job.return_value()


@pytest.fixture
def horses(service_env) -> Iterator[Horses]:
    name = f"horses-{uuid.uuid4().hex[:8]}"
    worker = start_worker(service_env, {"QUEUE_NAME": name, "JOBS_PER_WORK_HORSE": "3"})
    queue = Queue(name, connection=Redis.from_url(service_env["REDIS_URL"]))
    yield Horses(queue, worker)
    stop(worker)


def test_jobs_share_a_horse_until_it_has_run_its_share(horses):
    jobs = [horses.queue.enqueue(JOBS + "process_id") for _ in range(7)]
    pids = [horses.wait(job).return_value() for job in jobs]

    assert pids[0] == pids[1] == pids[2]
    assert pids[3] == pids[4] == pids[5]
    assert len({pids[0], pids[3], pids[6]}) == 3
    assert horses.worker.pid not in pids


def test_a_job_that_raises_fails_and_the_next_job_gets_a_new_horse(horses):
    before = horses.process_id()
    failed = horses.run("fail")
    after = horses.process_id()

    assert failed.get_status() == JobStatus.FAILED
    assert "RuntimeError: this job fails" in failed.latest_result().exc_string
    assert before != after


def test_a_job_that_kills_its_process_is_retried_then_fails_and_the_worker_goes_on(horses):
    before = horses.process_id()
    crashed = horses.run("crash", retry=Retry(max=1))
    after = horses.process_id()

    assert crashed.get_status() == JobStatus.FAILED
    assert crashed.retries_left == 0  # it ran twice
    assert "Work-horse terminated unexpectedly" in crashed.latest_result().exc_string
    assert not running(before)
    assert before != after
    assert horses.worker.poll() is None


def test_a_job_past_its_timeout_fails_and_the_next_job_runs(horses):
    slow = horses.run("sleep", 60, job_timeout=1)

    assert slow.get_status() == JobStatus.FAILED
    assert "JobTimeoutException" in slow.latest_result().exc_string
    assert horses.process_id()


def test_a_stuck_job_is_killed_when_stopped_and_the_next_job_runs(horses):
    job = horses.queue.enqueue(JOBS + "stuck")
    wait_for(lambda: job.get_status(refresh=True) == JobStatus.STARTED, 30)
    send_stop_job_command(horses.queue.connection, job.id)
    horses.wait(job)

    assert job.get_status() == JobStatus.STOPPED
    assert horses.process_id()


def test_the_horse_ends_with_its_worker(horses):
    pid = horses.process_id()
    stop(horses.worker)

    assert horses.worker.returncode == 0
    assert not running(pid)


def test_the_horse_ends_when_its_worker_is_killed(horses):
    pid = horses.process_id()
    others = [child for child in descendants(horses.worker.pid) if child != pid]  # RQ's scheduler
    horses.worker.kill()
    horses.worker.wait()

    try:
        wait_for(lambda: not running(pid), 10)
    finally:
        for other in others:
            kill_tree(other)
