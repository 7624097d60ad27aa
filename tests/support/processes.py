"""photogate's own processes in tests: RQ workers started from the repository root, and stopping any."""

import os
import subprocess
import sys
from pathlib import Path

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


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
