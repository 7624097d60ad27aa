"""What the web tier spends per photo when files come through it, and when they go straight to the bucket.

    .venv/bin/python -m bench.direct_uploads [--photos 40] [--rounds 3] [--clients 4]

photogate runs as `make run` runs it on PostgreSQL, Redis and moto's S3 server (bench.system), with no
worker: only the intake is measured. `--photos` distinct 12 MP JPEGs (bench.throughput's, ~3 MB each)
are sent into a new batch job each round, once through the web (`POST /api/bulk-nsfw/jobs/<id>/files`,
one file per request, as the batch page sends them without direct uploads) and once straight to the
bucket (`POST /api/uploads` for the file, the presigned POST to S3, `POST .../complete`), by
`--clients` threads; the two ways alternate which goes first, round by round. Each file's SHA-256 is
worked out before the clock, as a client's own work.

Printed per way: the web's (gunicorn's processes') CPU ms per photo and the request bytes it received
per photo (`photogate_http_received_bytes_total` of /metrics), the medians over the rounds, and their
ratios; and files/s as the clients saw them (moto's own CPU, the bucket's work, shares the cores in
the direct way, where S3 would be another machine).
"""

import argparse
import hashlib
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from bench.system import PeakMemory, backend, running_photogate
from bench.throughput import Photo, make_photos, multipart

WAYS = ("through the web", "straight to the bucket")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--photos", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    photos = make_photos(args.photos, {"jpeg": 1.0})
    hashes = {photo.number: hashlib.sha256(photo.data).hexdigest() for photo in photos}
    bodies = {photo.number: multipart(photo) for photo in photos}
    print(f"{len(photos)} JPEGs of 12 MP, {sum(len(p.data) for p in photos) / len(photos) / 1e6:.2f} MB each")
    results: dict[str, list[tuple[float, float, float]]] = {way: [] for way in WAYS}
    with (
        backend("services") as env,
        tempfile.TemporaryDirectory() as tmp,
        running_photogate(Path(tmp), env, workers=0) as (base, token, pid),
    ):
        memory = PeakMemory(pid)
        for round_number in range(args.rounds):
            order = WAYS if round_number % 2 == 0 else WAYS[::-1]
            for way in order:
                send = _through_web(bodies) if way == WAYS[0] else _to_bucket(hashes)
                results[way].append(_round(base, token, photos, args.clients, memory, send))
    _report(results, len(photos))
    return 0


def _round(base: str, token: str, photos: list[Photo], clients: int, memory: PeakMemory, send) -> tuple:
    """One way's round into a fresh job: (web CPU ms per photo, received bytes per photo, files/s)."""
    api = _session(token)
    job_id = api.post(f"{base}/api/bulk-nsfw/jobs", json={}).json()["job_id"]
    local = threading.local()

    def one(photo: Photo) -> None:
        if not hasattr(local, "api"):
            local.api = _session(token)
        send(local.api, base, job_id, photo)

    received, cpu, start = _received(api, base), memory.cpu_seconds("web"), time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, photos))
    elapsed = time.perf_counter() - start
    cpu, received = memory.cpu_seconds("web") - cpu, _received(api, base) - received
    status = api.get(f"{base}/api/bulk-nsfw/jobs/{job_id}").json()
    if status["total"] != len(photos):
        raise SystemExit(f"the job holds {status['total']} of {len(photos)} photos: {status}")
    return 1000 * cpu / len(photos), received / len(photos), len(photos) / elapsed


def _through_web(bodies: dict[int, tuple[bytes, str]]):
    def send(api: requests.Session, base: str, job_id: str, photo: Photo) -> None:
        body, content_type = bodies[photo.number]
        answer = api.post(
            f"{base}/api/bulk-nsfw/jobs/{job_id}/files", data=body, headers={"Content-Type": content_type}
        )
        if not answer.ok or not answer.json()["images"]:
            raise SystemExit(f"{photo.name} was not stored: {answer.status_code} {answer.text}")

    return send


def _to_bucket(hashes: dict[int, str]):
    def send(api: requests.Session, base: str, job_id: str, photo: Photo) -> None:
        declared = {
            "filename": photo.name,
            "size": len(photo.data),
            "content_type": "image/jpeg",
            "sha256": hashes[photo.number],
            "upload_order": photo.number,
        }
        answer = api.post(f"{base}/api/uploads", json={"job_id": job_id, "files": [declared]}).json()
        (upload,) = answer["uploads"]
        sent = requests.post(upload["url"], data=upload["fields"], files={"file": (photo.name, photo.data)})
        completed = api.post(base + upload["complete_url"])
        if sent.status_code != 204 or completed.status_code != 202:
            raise SystemExit(f"{photo.name}: S3 answered {sent.status_code}, complete {completed.text}")

    return send


def _session(token: str) -> requests.Session:
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token}"
    return api


def _received(api: requests.Session, base: str) -> float:
    for line in api.get(f"{base}/metrics").text.splitlines():
        if line.startswith("photogate_http_received_bytes_total "):
            return float(line.split()[1])
    raise SystemExit("/metrics has no photogate_http_received_bytes_total")


def _report(results: dict[str, list[tuple[float, float, float]]], count: int) -> None:
    medians = {
        way: [statistics.median(column) for column in zip(*rounds, strict=True)]
        for way, rounds in results.items()
    }
    print(f"\nmedians of {len(results[WAYS[0]])} rounds of {count} photos each, the ways interleaved")
    print(f"{'':24}{'web CPU ms/photo':>18}{'web received/photo':>20}{'files/s':>9}")
    for way, (cpu, received, rate) in medians.items():
        print(f"{way:24}{cpu:>18.1f}{received / 1e3:>17.1f} kB{rate:>9.1f}")
    (web_cpu, web_bytes, web_rate), (direct_cpu, direct_bytes, direct_rate) = medians.values()
    print(
        f"straight to the bucket / through the web: CPU {direct_cpu / web_cpu:.2f}x, "
        f"bytes {direct_bytes / web_bytes:.4f}x, files/s {direct_rate / web_rate:.2f}x"
    )
    for way, rounds in results.items():
        print(
            f"  {way}: "
            + "; ".join(
                f"{cpu:.1f} ms, {received / 1e3:.1f} kB, {rate:.1f}/s" for cpu, received, rate in rounds
            )
        )


if __name__ == "__main__":
    raise SystemExit(main())
