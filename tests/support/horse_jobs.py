"""Jobs for tests of the worker's work horse (tests/workers/test_work_horse.py), enqueued by dotted path."""

import os
import signal
import time


def process_id() -> int:
    """The process the job ran in."""
    return os.getpid()


def crash() -> None:
    """Die as a decoder's segfault or the kernel's OOM killer would end the process: at once."""
    os.kill(os.getpid(), signal.SIGKILL)


def fail() -> None:
    raise RuntimeError("this job fails")


def sleep(seconds: float) -> None:
    time.sleep(seconds)


def stuck() -> None:
    """Hang where the job timeout's SIGALRM cannot reach, as a loop inside a C library would."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    while True:
        time.sleep(1)
