"""The PostgreSQL and Redis connections one node holds, by process, idle and at its busiest.

    .venv/bin/python -m bench.connections [--workers 8] [--photos 200] [--clients 16]

One node starts as `make run` starts it (`flask --app wsgi up`: gunicorn with 2 processes of 4
threads, `--workers` workers, the cron) on a fresh PostgreSQL database, a Redis database of its own
and moto's S3, as bench.two_nodes starts them. Its connections are counted from /proc: every TCP
socket of every process of the node (work horses and RQ's scheduler too) that is connected to
PostgreSQL's or Redis's port, grouped by what the process is. They are counted once everything
listens (idle), then every 100 ms while `--clients` threads post `--photos` small JPEGs, one per
request, to a batch job and the workers process them: the peak of each group, and of the node.
Multiply by the nodes of a deployment to size PostgreSQL's max_connections and Redis's maxclients.
"""

import argparse
import io
import os
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import requests
from PIL import Image

from bench.system import backend
from bench.throughput import TERMINAL
from bench.two_nodes import prepare
from webapp.testing.nodes import Node, running_nodes

GROUPS = ("web", "workers", "cron", "up")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=8, help="workers of the node (default 8)")
    parser.add_argument("--photos", type=int, default=200, help="photos posted (default 200)")
    parser.add_argument("--clients", type=int, default=16, help="parallel upload clients (default 16)")
    parser.add_argument("--processes", action="store_true", help="also each process's busiest")
    args = parser.parse_args()
    photos = [small_jpeg(seed) for seed in range(args.photos)]
    with tempfile.TemporaryDirectory() as folder, backend("services") as env:
        env |= {"SECRET_KEY": "bench"}
        token = prepare(env)
        ports = {"postgresql": urlsplit(env["DATABASE_URL"]).port, "redis": urlsplit(env["REDIS_URL"]).port}
        with running_nodes(Path(folder), 1, env, args.workers) as (node,):
            idle = connections(node, ports)
            peak = Peak(node, ports)
            peak.start()
            upload(node.base, token, photos, args.clients)
            peak.stop()
    print(
        f"\none node: gunicorn 2 x 4 threads, {args.workers} workers, a cron; {args.photos} photos"
        f" from {args.clients} clients on {os.cpu_count()} cores"
    )
    for service in ports:
        print(f"{service} connections      idle  busiest")
        for group in GROUPS:
            print(f"  {group:<20} {idle[service, group]:6d} {peak.most[service, group]:8d}")
        print(f"  {'the node':<20} {peak.idle_total(idle, service):6d} {peak.total[service]:8d}")
    if args.processes:
        print("each process at its busiest: pid, parent, command line, PostgreSQL and Redis connections")
        for (pid, parent, command), most in sorted(peak.by_process.items()):
            print(f"  {pid:>7} {parent:>7} {command[:60]:<60} {most['postgresql']:3d} {most['redis']:3d}")
    return 0


def small_jpeg(seed: int) -> bytes:
    """A 1600x1200 JPEG of noise and blocks: quick to make and to process, and its own bytes."""
    rng = random.Random(seed)
    image = Image.effect_noise((1600, 1200), 40).convert("RGB")
    for _ in range(8):
        x, y = rng.randrange(1400), rng.randrange(1000)
        image.paste(tuple(rng.randrange(256) for _ in range(3)), (x, y, x + 200, y + 200))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def upload(base: str, token: str, photos: list[bytes], clients: int) -> None:
    """The photos into a batch job from parallel clients, then the job submitted and waited for."""
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token}"
    job_id = api.post(f"{base}/api/bulk-nsfw/jobs", json={}).json()["job_id"]

    def send(numbered: tuple[int, bytes]) -> None:
        number, data = numbered
        requests.post(
            f"{base}/api/bulk-nsfw/jobs/{job_id}/files",
            headers=api.headers,
            data={"upload_order": str(number)},
            files={"files": (f"{number}.jpg", data, "image/jpeg")},
            timeout=120,
        ).raise_for_status()

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(send, enumerate(photos)))
    api.post(f"{base}/api/bulk-nsfw/jobs/{job_id}/submit").raise_for_status()
    while api.get(f"{base}/api/bulk-nsfw/jobs/{job_id}").json()["status"] not in TERMINAL:
        time.sleep(0.2)


class Peak:
    """The most connections of each group, and of the node, seen every 100 ms in a thread."""

    def __init__(self, node: Node, ports: dict[str, int]) -> None:
        self.node, self.ports = node, ports
        self.most: Counter = Counter()
        self.total: Counter = Counter()
        self.by_process: dict[tuple[int, int, str], Counter] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._done.wait(0.1):
            for process, counts in connections_by_process(self.node, self.ports).items():
                most = self.by_process.setdefault(process, Counter())
                most |= counts
            now = connections(self.node, self.ports)
            for key, count in now.items():
                self.most[key] = max(self.most[key], count)
            for service in self.ports:
                self.total[service] = max(self.total[service], sum(now[service, group] for group in GROUPS))

    @staticmethod
    def idle_total(idle: Counter, service: str) -> int:
        return sum(idle[service, group] for group in GROUPS)


def connections(node: Node, ports: dict[str, int]) -> Counter:
    """Established connections to each service's port now, by (service, group)."""
    remote = _remote_ports()
    services = {port: service for service, port in ports.items()}
    counts: Counter = Counter()
    for pid in node.pids():
        group = _group(pid)
        for inode in _socket_inodes(pid):
            if remote.get(inode) in services:
                counts[services[remote[inode]], group] += 1
    return counts


def connections_by_process(node: Node, ports: dict[str, int]) -> dict[tuple[int, int, str], Counter]:
    """Established connections to each service's port now, by (pid, parent pid, command line)."""
    remote = _remote_ports()
    services = {port: service for service, port in ports.items()}
    found = {}
    for pid in node.pids():
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
            parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        found[pid, parent, command] = Counter(
            services[remote[inode]] for inode in _socket_inodes(pid) if remote.get(inode) in services
        )
    return found


def _remote_ports() -> dict[str, int]:
    """Established TCP sockets of the machine: inode → remote port (from /proc/net/tcp and tcp6)."""
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "01":  # ESTABLISHED
                found[fields[9]] = int(fields[2].rsplit(":", 1)[1], 16)
    return found


def _socket_inodes(pid: int) -> list[str]:
    inodes = []
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with_target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if with_target.startswith("socket:["):
                inodes.append(with_target[8:-1])
    except OSError:
        pass  # the process or the descriptor has just gone
    return inodes


def _group(pid: int) -> str:
    """What the process is: the web (gunicorn), a worker (its horse and RQ's scheduler too, which carry
    its command line or RQ's process title), the cron, or `up` itself."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "up"
    if any(b"gunicorn" in part for part in command):
        return "web"
    if b"workers.cron" in command:
        return "cron"
    if command[1:3] == [b"-m", b"workers"] or command[0].startswith(b"rq:"):
        return "workers"
    return "up"


if __name__ == "__main__":
    sys.exit(main())
