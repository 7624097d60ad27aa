"""photogate started for the benchmarks as `make run` starts it (`flask --app wsgi up`), on the
embedded backend or on PostgreSQL, Redis and moto's S3, and the memory its processes hold."""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import redis

from webapp.testing import servers

ROOT = Path(__file__).resolve().parent.parent
EMAIL, PASSWORD = "bench@example.com", "a long bench password"
BUCKET = "photogate-bench"
# Settings the bench decides itself: whatever this shell exports must not change the system measured.
CONFIGURATION = (
    "DATABASE_URL",
    "REDIS_URL",
    "S3_BUCKET",
    "S3_ENDPOINT_URL",
    "STORAGE_DIR",
    "SECRET_KEY",
    "QUEUE_NAME",
    "MODERATION_PROVIDER",
    "LOG_LEVEL",
)


@contextmanager
def backend(name: str) -> Iterator[dict[str, str]]:
    """The environment that points photogate at its backend: nothing for the embedded one."""
    if name == "embedded":
        yield {}
        return
    with (
        servers.postgres_server() as server,
        servers.database(server, f"photogate_bench_{uuid.uuid4().hex[:8]}") as database_url,
        servers.redis_server() as redis_server,
        servers.redis_database(redis_server, f"bench-{uuid.uuid4()}") as redis_url,
        servers.moto_server() as endpoint,
    ):
        # The database is ours alone while we hold its claim; a crashed run may have left work in it.
        redis.Redis.from_url(redis_url).flushdb()
        env = {"S3_BUCKET": BUCKET, "S3_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": "us-east-1"}
        env |= {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        )
        s3.create_bucket(Bucket=BUCKET)
        yield env | {"DATABASE_URL": database_url, "REDIS_URL": redis_url}


@contextmanager
def running_photogate(instance: Path, backend_env: dict[str, str], workers: int) -> Iterator[tuple]:
    """`flask --app wsgi up` in `instance`, its output in up.log there, every worker listening and a
    user made; yields (address, API token, pid of `up`). Stopped with Ctrl-C, as a person would."""
    env = {name: value for name, value in os.environ.items() if name not in CONFIGURATION}
    env |= backend_env | {"PHOTOGATE_INSTANCE_PATH": str(instance), "PORT": str(servers.free_port())}
    env |= {"WORKERS": str(workers), "LOG_LEVEL": "INFO"}
    base, log = f"http://127.0.0.1:{env['PORT']}", instance / "up.log"
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    with open(log, "ab") as output:
        process = subprocess.Popen(
            [*flask, "up"], cwd=ROOT, env=env, start_new_session=True, stdout=output, stderr=output
        )
    try:
        _wait_until_up(
            process,
            log,
            lambda: (
                log.read_text().count("Listening on") >= workers
                and urllib.request.urlopen(base + "/healthz", timeout=2)
            ),
        )
        created = subprocess.run(
            [*flask, "users", "create", EMAIL, "--password", PASSWORD],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        yield base, created.stdout.split()[-1], process.pid
    finally:
        os.killpg(process.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(60)
        # Whatever of its group `up` could not stop goes too: no run may leave processes behind.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def _wait_until_up(process: subprocess.Popen, log: Path, check) -> None:
    """Wait for `check` to hold; stop with the end of the log if `up` exits or two minutes pass."""
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass  # the web server is not listening yet
        time.sleep(0.2)
    raise SystemExit(f"photogate did not come up; its log ends:\n{log.read_text()[-3000:]}")


def wait_for_lines(log: Path, text: str, count: int, timeout: float = 30) -> None:
    """Wait until `count` lines of the log hold `text`, or the timeout passes."""
    deadline = time.monotonic() + timeout
    while log.read_text().count(text) < count and time.monotonic() < deadline:
        time.sleep(0.2)


class PeakMemory:
    """The peak resident memory of the web and worker processes under a process, sampled every 50 ms
    in a thread: in all (shared pages counted in each process) and of the largest one; and the CPU
    time a group's processes have used so far."""

    def __init__(self, root: int) -> None:
        self.root, self._commands = root, {}
        self.idle: dict[str, tuple[float, float, int]] = {}
        self.peak: dict[str, tuple[float, float, int]] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def start(self) -> None:
        self.idle = self._measure()
        self.peak = dict(self.idle)
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._done.wait(0.05):
            for group, (total, largest, count) in self._measure().items():
                peak = self.peak.get(group, (0.0, 0.0, 0))
                self.peak[group] = (max(total, peak[0]), max(largest, peak[1]), max(count, peak[2]))

    def cpu_seconds(self, group: str) -> float:
        """User and system CPU seconds the group's living processes have used since they started."""
        ticks = 0
        for pid in _tree(self.root):
            if self._group(pid) != group:
                continue
            try:
                # After the command's closing parenthesis: state is field 3, utime and stime 14 and 15.
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def _measure(self) -> dict[str, tuple[float, float, int]]:
        """(MiB in all, MiB of the largest process, processes) of `web` and `workers` now."""
        sizes = defaultdict(list)
        for pid in _tree(self.root):
            if not (group := self._group(pid)):
                continue
            try:
                # statm's second field is the resident set in pages: what /proc/<pid>/status calls VmRSS.
                pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
            except (OSError, IndexError):
                continue  # the process has just ended
            sizes[group].append(pages * os.sysconf("SC_PAGE_SIZE") / 2**20)
        return {group: (sum(mib), max(mib), len(mib)) for group, mib in sizes.items()}

    def _group(self, pid: int) -> str | None:
        """`web` for gunicorn's processes; `workers` for `python -m workers`, its job processes and the
        RQ scheduler one of them forks."""
        if pid not in self._commands:
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                return None
            # Forked, not started: those have their worker's command line (or RQ's process title).
            worker = command.split(b"\0")[1:3] == [b"-m", b"workers"] or command.startswith(b"rq:worker")
            self._commands[pid] = "web" if b"gunicorn" in command else "workers" if worker else None
        return self._commands[pid]


def _tree(root: int) -> list[int]:
    """The process and its descendants, by /proc's children lists."""
    pids, pending = [], [root]
    while pending:
        pid = pending.pop()
        pids.append(pid)
        try:
            pending += [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            continue
    return pids
