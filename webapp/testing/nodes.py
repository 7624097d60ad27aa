"""Several photogate nodes on one machine: each `flask --app wsgi up` (`make run`'s web, workers and cron)
with an instance folder and a port of its own, all on one PostgreSQL, one Redis and one S3.

A node can be lost at once (SIGKILL to every process of it, work horses and RQ's scheduler too,
whatever process group they are in), or stopped as an operator stops it; either way no process of
it is left running. A `Balancer` sends requests to the nodes in turn, as a load balancer in front of
them would.
"""

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from webapp.testing.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
# A lost node's photos are queued again ~61 s after it was lost rather than the defaults' 65-95 s:
# RQ 3.0 keeps a dead worker's key and its execution JOB_MONITORING_INTERVAL + 60 s past its last
# heartbeat whatever the settings, then RQ's cleanup (every MAINTENANCE_INTERVAL) or the reconciler
# (every RECONCILE_EVERY) queues them; the reconciler removes its half-made uploads after RECONCILE_AFTER.
FAST_FAILOVER = {
    "WORKER_TTL": "5",
    "JOB_MONITORING_INTERVAL": "1",
    "MAINTENANCE_INTERVAL": "2",
    "RECONCILE_EVERY": "2",
    "RECONCILE_AFTER": "10",
    "JOB_RETRY_INTERVALS": "1,1",
}
STOP_SECONDS = 30


@dataclass
class Node:
    """A running `up`: its name, address, instance folder and output; the processes seen in it."""

    name: str
    base: str
    folder: Path
    output: Path
    process: subprocess.Popen
    seen: set[tuple[int, str]] = field(default_factory=set)  # (pid, start time): a reused pid is not ours

    def log(self) -> str:
        return self.output.read_text(errors="replace")

    def pids(self) -> list[int]:
        """`up` and every process below it now, each remembered for the end."""
        pids = [self.process.pid, *descendants(self.process.pid)]
        self.seen |= {(pid, started) for pid in pids if (started := _start_time(pid))}
        return pids

    def running(self) -> list[int]:
        """The processes seen in this node that still run."""
        return [pid for pid, started in self.seen if _start_time(pid) == started]

    def kill(self) -> None:
        """Lose the node as a machine that loses power: SIGKILL to all its processes at once."""
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(STOP_SECONDS)

    def stop(self) -> None:
        """SIGTERM to `up`, as systemd or Ctrl-C stops it (workers end their job in hand); whatever of
        it still runs after STOP_SECONDS is killed."""
        self.pids()
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(STOP_SECONDS)
        for pid in self.running():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(STOP_SECONDS)


class Balancer:
    """Round robin over the nodes, as a load balancer: a request that got no answer (its connection
    refused or cut) is sent again, as it was, to the next node."""

    def __init__(self, bases: list[str]) -> None:
        self.bases = bases
        self.resent = 0
        self.in_flight: Counter[str] = Counter()
        self._turn = itertools.count()
        self._lock = threading.Lock()

    def send(self, request: Callable[[str], requests.Response]) -> requests.Response:
        for _ in range(4 * len(self.bases)):
            with self._lock:
                base = self.bases[next(self._turn) % len(self.bases)]
                self.in_flight[base] += 1
            try:
                return request(base)
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
                with self._lock:
                    self.resent += 1
            finally:
                with self._lock:
                    self.in_flight[base] -= 1
        raise AssertionError("no node answered")

    def call(self, method: str, path: str, token: str, **options) -> requests.Response:
        """An API request through the balancer."""
        headers = {"Authorization": f"Bearer {token}"}
        return self.send(
            lambda base: requests.request(method, base + path, headers=headers, timeout=60, **options)
        )


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (an RQ worker's scheduler and work horse, whatever group they are in)."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return children + [grandchild for child in children for grandchild in descendants(child)]


def _start_time(pid: int) -> str | None:
    """When the process started (field 22 of its stat), or None if it has ended (a zombie has)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else fields[19]


@contextmanager
def running_nodes(where: Path, count: int, env: dict[str, str], workers: int = 2) -> Iterator[list[Node]]:
    """`count` nodes started side by side under `where` (node-a, node-b, ...), each with `env` and
    `workers` worker processes, yielded once every one answers and its workers listen; every node is
    stopped at the end, whatever happened."""
    nodes: list[Node] = []
    try:
        for letter in "abcdefghijklmnopqrstuvwxyz"[:count]:
            nodes.append(_start(where / f"node-{letter}", f"node-{letter}", env, workers))
        for node in nodes:
            _wait_until_serving(node, workers)
        yield nodes
    finally:
        for node in nodes:
            node.stop()


def _start(folder: Path, name: str, env: dict[str, str], workers: int) -> Node:
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    settings = {"PHOTOGATE_INSTANCE_PATH": str(folder), "PORT": str(port), "WORKERS": str(workers)}
    output = folder.parent / f"{name}.log"
    with output.open("ab") as log:
        process = subprocess.Popen(
            [*FLASK, "up"],
            cwd=ROOT,
            env={**os.environ, **env, **settings},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    node = Node(name, f"http://127.0.0.1:{port}", folder, output, process)
    node.pids()
    return node


def _wait_until_serving(node: Node, workers: int, timeout: float = 120) -> None:
    """Until the node says it runs and each of its workers listens on the queue."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and node.process.poll() is None:
        log = node.log()
        if "photogate is running on" in log and log.count("Listening on") >= workers:
            node.pids()
            return
        time.sleep(0.2)
    raise RuntimeError(f"{node.name} did not come up; its log ends:\n{node.log()[-3000:]}")
