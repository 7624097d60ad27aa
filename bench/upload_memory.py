"""Benchmark the web process's memory while it takes a 500-file batch in one request.

    .venv/bin/python -m bench.upload_memory [--files 500] [--file-kib 300]

A real gunicorn process (one worker, one thread) on PostgreSQL, Redis and moto's S3 server takes
`POST /api/bulk-nsfw/upload` with 100 files, then with 500, streamed from a generator. The worker's
resident memory is sampled every 20 ms. Target: flat, i.e. the peak for 500 files is within
25 MiB of the peak for 100 files (files go to storage from disk-backed spools, never all in memory).
"""

import argparse
import http.client
import io
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import boto3
from PIL import Image

from bench.system import ROOT
from webapp.testing import servers

FLAT_MIB = 25
BOUNDARY = "photogate-bench-boundary"


def photo(kib: int) -> bytes:
    """A JPEG of about `kib` KiB (noise compresses badly, so size follows pixel count)."""
    side = int((kib * 1024 / 1.1) ** 0.5)
    buffer = io.BytesIO()
    Image.effect_noise((side, side), 64).convert("RGB").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def multipart(files: int, data: bytes):
    """The body of a batch upload, yielded part by part so the client holds one file at a time."""
    for n in range(files):
        head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="p{n}.jpg"\r\n'
        yield (head + "Content-Type: image/jpeg\r\n\r\n").encode() + data + b"\r\n"
    yield f"--{BOUNDARY}--\r\n".encode()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def upload(port: int, token: str, files: int, data: bytes, pid: int) -> tuple[int, float, int]:
    """Send one batch; returns (peak RSS KiB during it, seconds, HTTP status)."""
    samples, done = [rss_kib(pid)], threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append(rss_kib(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    length = sum(len(part) for part in multipart(files, data))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    start = time.perf_counter()
    connection.request(
        "POST",
        "/api/bulk-nsfw/upload",
        body=multipart(files, data),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Content-Length": str(length),
        },
    )
    status = connection.getresponse().status
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    return max(samples), elapsed, status


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--file-kib", type=int, default=300)
    args = parser.parse_args()
    data = photo(args.file_kib)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    with (
        tempfile.TemporaryDirectory() as tmp,
        servers.postgres_server() as server,
        servers.database(server, f"photogate_bench_{uuid.uuid4().hex[:8]}") as database,
        servers.redis_server() as redis_url,
        servers.moto_server() as s3_endpoint,
    ):
        env = {
            **os.environ,
            "DATABASE_URL": database,
            "REDIS_URL": redis_url,
            "QUEUE_NAME": f"bench-{uuid.uuid4().hex[:6]}",  # no worker: only the web process is measured
            "S3_BUCKET": "photogate-bench",
            "S3_ENDPOINT_URL": s3_endpoint,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "SECRET_KEY": "bench",
            "PHOTOGATE_INSTANCE_PATH": tmp,
        }
        boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(
            Bucket="photogate-bench"
        )
        flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
        subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
        created = subprocess.run(
            [*flask, "users", "create", "bench@example.com"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        token = created.stdout.decode().strip().splitlines()[-1]
        port = servers.free_port()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "1",
            "--timeout",
            "600",
            "--no-control-socket",
            "wsgi:app",
        ]
        web = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
        try:
            servers.wait_until(
                lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/login"), 30, "gunicorn"
            )
            worker_pid = int(Path(f"/proc/{web.pid}/task/{web.pid}/children").read_text().split()[0])
            upload(port, token, 5, data, worker_pid)  # warm up: imports, pools, first requests
            baseline = rss_kib(worker_pid)
            results = {files: upload(port, token, files, data, worker_pid) for files in (100, args.files)}
        finally:
            web.terminate()
            web.wait(30)
    print(f"web worker RSS, one request per batch, baseline {baseline / 1024:.1f} MiB")
    for files, (peak, seconds, status) in results.items():
        size, growth = files * len(data) / 2**20, (peak - baseline) / 1024
        print(f"  {files:4} files ({size:6.1f} MiB): peak {peak / 1024:6.1f} MiB (+{growth:5.1f})", end="")
        print(f", {seconds:5.1f} s, HTTP {status}")
    growth = (results[args.files][0] - results[100][0]) / 1024
    print(f"  peak growth from 100 to {args.files} files: {growth:+.1f} MiB")
    if any(status != 202 for _, _, status in results.values()) or growth > FLAT_MIB:
        print(f"MISSED: memory is not flat (or an upload failed); allowed growth {FLAT_MIB} MiB")
        return 1
    print(f"OK: flat within {FLAT_MIB} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
