"""photogate's own processes in tests: RQ workers and gunicorn started from the repository root, and
stopping any."""

import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from webapp.testing import servers

ROOT = Path(__file__).resolve().parents[2]


def start_worker(env: dict[str, str], extra: dict[str, str] | None = None) -> subprocess.Popen:
    """A real `python -m workers` process on the suite's queue."""
    return subprocess.Popen(
        [sys.executable, "-m", "workers"],
        cwd=ROOT,
        env={**os.environ, **env, **(extra or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@contextmanager
def serve_web(env: dict[str, str], extra: dict[str, str] | None = None) -> Iterator[str]:
    """photogate served by gunicorn on a free port of 127.0.0.1; yields its base URL."""
    port = servers.free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--threads",
            "4",
            "--no-control-socket",
            "wsgi:app",
        ],
        cwd=ROOT,
        env={**os.environ, **env, **(extra or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        servers.wait_until(lambda: urllib.request.urlopen(base + "/login", timeout=2), 30, "gunicorn")
        yield base
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def running(pid: int) -> bool:
    """Whether the process exists and has not ended (a zombie has ended)."""
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
