"""PhotogateWorker: RQ's forking worker, with a work horse that outlives its job.

RQ forks a work horse per job, and a fresh process pays for everything it touches: copy-on-write
and first-touch page faults on every buffer, cold caches, new database connections, ~85 ms a
12 MP photo (measured with bench/throughput.py). Here a horse runs jobs one after another until
it has run `jobs_per_horse` of them or one of them failed, as Celery's prefork pool runs tasks in
long-lived children. What the fork per job gave is kept, because the parent still runs RQ's own
monitoring of the horse: a horse that dies (killed, out of memory, a crash in a decoder) fails
its job through RQ's path for a dead horse, and RQ still kills a horse whose job runs past its
timeout; either way the next job gets a new horse.

The parent and its horse talk over two pipes: the parent writes a line per job (its id, its
execution's id and its queue), the horse answers one byte when the job is done and it will take
another. A horse that will not take another just exits, so the parent learns of every end of a
horse from its process, never from a reply it waits for in vain.
"""

import gc
import logging
import os
import random
from dataclasses import dataclass

from rq import Worker
from rq.executions import Execution, ExecutionRegistry
from rq.job import Job
from sqlalchemy.exc import SQLAlchemyError

from webapp.services.banks import bank_index

log = logging.getLogger(__name__)

READY = b"."


@dataclass
class Horse:
    """The parent's end of a live work horse: its pid, where to send jobs and where it answers."""

    pid: int
    jobs: int
    replies: int

    def close(self) -> None:
        for fd in (self.jobs, self.replies):
            os.close(fd)


class LiveExecutions(ExecutionRegistry):
    """A job's executions, less those whose record has expired (forgotten as they are found)."""

    def get_executions(self, start: int = 0, end: int = -1) -> list[Execution]:
        executions = []
        for execution_id in self.get_execution_ids(start, end):
            try:
                executions.append(Execution.fetch(execution_id, self.job_id, self.connection))
            except ValueError:  # RQ's "not found in Redis"
                self.connection.zrem(self.key, execution_id)
        return executions


class PhotogateJob(Job):
    """RQ's job, whose end does not trip on an execution a lost worker left.

    RQ 3.0 lists an execution in its job's registry 60 s longer than it keeps the execution's record.
    A worker killed mid-job (its node lost) leaves both; once the record has expired, ending the job's
    next run (RQ's retry of the abandoned job, or the reconciler's) failed on fetching it: the run that
    had succeeded counted as failed, its photo "nothing to do" on each retry, and the job ended on the
    failed list (issue 24).
    """

    @property
    def execution_registry(self) -> ExecutionRegistry:
        return LiveExecutions(self.id, connection=self.connection)


class PhotogateWorker(Worker):
    """RQ's worker, running jobs in a work horse that lives for up to `jobs_per_horse` of them.

    A new horse is forked from a parent that is ready for it: the bank index brought up to date,
    and the parent's objects frozen out of the garbage collector across the fork, so the horse's
    full collections never walk the inherited heap (Flask, SQLAlchemy, ONNX Runtime, FAISS) and
    copy every page they touch.
    """

    def __init__(self, *args, jobs_per_horse: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.jobs_per_horse = jobs_per_horse
        self._horse: Horse | None = None
        # Any other child forked from here (RQ's scheduler) must not hold the horse's pipes open:
        # the horse would then never see the end of its parent.
        os.register_at_fork(after_in_child=self._forget_horse)

    def fork_work_horse(self, job, queue) -> None:
        """Hand the job to the live horse, or to a new one if there is none or it just went away."""
        assignment = f"{job.id} {self.execution.id} {queue.name}\n".encode()
        if self._horse is not None:
            try:
                os.write(self._horse.jobs, assignment)
            except BrokenPipeError:
                self._reap_horse()
            else:
                self._horse_pid = self._horse.pid
                return
        self._horse = self._fork_horse()
        self._horse_pid = self._horse.pid
        os.write(self._horse.jobs, assignment)

    def wait_for_horse(self):
        """Until the horse says the job is done (it lives on) or its process ends, as RQ's `wait4`."""
        if self._horse is None:
            return None, None, None
        if os.read(self._horse.replies, 1) == READY:
            return self._horse.pid, os.EX_OK, None
        return self._reap_horse()

    def teardown(self) -> None:
        """Let the idle horse go: it sees the end of its job pipe and exits."""
        if self._horse is not None:
            self._reap_horse()
        super().teardown()

    def _fork_horse(self) -> Horse:
        bank_index_refresh()
        job_reader, job_writer = os.pipe()
        reply_reader, reply_writer = os.pipe()
        gc.freeze()
        try:
            pid = os.fork()
        finally:
            # Only the parent gets here (a horse exits inside): it collects as before.
            gc.unfreeze()
        if pid == 0:
            os.close(job_writer)
            os.close(reply_reader)
            self._serve(job_reader, reply_writer)
        os.close(job_reader)
        os.close(reply_writer)
        self.procline(f"Forked horse {pid}")
        return Horse(pid=pid, jobs=job_writer, replies=reply_reader)

    def _serve(self, job_reader: int, reply_writer: int) -> None:
        """The horse: run the jobs its parent sends, one at a time, then exit (never returns)."""
        os.setpgrp()
        random.seed()
        self.setup_work_horse_signals()
        self._is_horse = True
        assignments = os.fdopen(job_reader, "rb")
        try:
            for served in range(1, self.jobs_per_horse + 1):
                line = assignments.readline()
                if not line:
                    break  # the parent is gone
                succeeded = self._run(*line.decode().split())
                if not succeeded or served == self.jobs_per_horse:
                    break
                os.write(reply_writer, READY)
        except BrokenPipeError:
            pass
        except BaseException:
            log.exception("work horse failed outside a job")
            os._exit(1)
        os._exit(0)

    def _run(self, job_id: str, execution_id: str, queue_name: str) -> bool:
        job = self.job_class.fetch(job_id, connection=self.connection, serializer=self.serializer)
        queue = self.queue_class(
            queue_name,
            connection=self.connection,
            job_class=self.job_class,
            serializer=self.serializer,
            death_penalty_class=self.death_penalty_class,
        )
        execution = Execution.fetch(execution_id, job.id, connection=self.connection)
        self.executions = {execution.id: execution}
        return self.perform_job(job, queue, execution)

    def _reap_horse(self):
        """Close our ends of the horse's pipes and wait for its process to end."""
        horse, self._horse = self._horse, None
        horse.close()
        self._horse_pid = horse.pid
        try:
            return super().wait_for_horse()
        finally:
            self._horse_pid = 0

    def _forget_horse(self) -> None:
        if self._horse is not None:
            self._horse.close()
            self._horse = None


def bank_index_refresh() -> None:
    """Bring this process's bank index up to date; a database that does not answer is left for later."""
    try:
        bank_index.current()
    except SQLAlchemyError:
        # The job's own lookup tries again, and is retried with its job if the database stays down.
        log.warning("bank index not refreshed: the database did not answer", exc_info=True)
