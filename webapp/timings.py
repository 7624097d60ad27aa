"""Step timings: the wall milliseconds of named steps, summed into a dict a caller passes down.

The worker's pipeline keeps a Stopwatch per photo and logs its summary (see services/photos/processing.py):
that line is how bench/throughput.py tells where a worker's time goes.
"""

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager


@contextmanager
def timed(timings: dict[str, float] | None, step: str) -> Iterator[None]:
    """Add the block's wall milliseconds to `timings[step]`; with no dict, time nothing."""
    if timings is None:
        yield
        return
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[step] = timings.get(step, 0.0) + (time.perf_counter() - start) * 1000


class Stopwatch:
    """Wall and CPU milliseconds since it was made, and the wall milliseconds of named steps."""

    def __init__(self) -> None:
        self.steps: dict[str, float] = {}
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    def step(self, name: str) -> AbstractContextManager[None]:
        """A context manager adding its block's wall milliseconds to step `name`."""
        return timed(self.steps, name)

    def summary(self) -> str:
        """`in <wall> ms (<cpu> ms CPU): <step> <ms> ms, ...`, the whole measured up to now."""
        wall = (time.perf_counter() - self._wall) * 1000
        cpu = (time.process_time() - self._cpu) * 1000
        steps = ", ".join(f"{name} {ms:.1f} ms" for name, ms in self.steps.items())
        return f"in {wall:.1f} ms ({cpu:.1f} ms CPU): {steps}"
