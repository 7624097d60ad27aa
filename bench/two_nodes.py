"""Two photogate nodes on one PostgreSQL, one Redis and one S3: photos/s through both, and what losing
one of them mid-batch costs.

    .venv/bin/python -m bench.two_nodes [--photos 100] [--workers 2] [--clients 4] [--kill]

`--photos` distinct 12 MP JPEGs are made (or read from the cache) by bench.throughput's generator.
A fresh PostgreSQL database, a Redis database of its own and moto's S3 server are started as
bench.throughput's `services` backend starts them; the schema is migrated once, as a release step
does, and a user is made. Then two nodes start, each `flask --app wsgi up` (`make run`'s web, its
`--workers` workers and a cron) with its own instance folder and port, and the settings that notice
a lost node fast (webapp/testing/nodes.py's FAST_FAILOVER). `--clients` threads post the photos, one
file per request at its upload order, to the nodes in turn as a load balancer would, sending a
request that got no answer again to the other node; with `--direct`, each file goes straight to the
bucket instead, its presigned POST and its completion asked of the nodes in turn. With `--kill`, once
half the photos are answered, every process of the second node gets SIGKILL. The job is submitted and
polled until it ends.

Printed: photos/s from the first upload to the job's end, and how many photos each node finished
(the `photo processed` lines of its log); with `--kill`, the seconds from the kill to the job's end
and the photos the lost node had in hand. Then what must be zero: duplicates (sessions beyond one per
upload order, photos finished more than once, photos counted twice in the job) and lost photos
(accepted but not terminal, or never accepted), and objects in the bucket outside the folder of a
session of the job, counted once the reconciler has had time to remove what the lost node half-made.
The exit status is non-zero when any of those is not zero.
"""

import argparse
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import psycopg2
import requests

from bench.system import BUCKET, EMAIL, PASSWORD, ROOT, backend
from bench.throughput import TERMINAL, Photo, make_photos, multipart
from webapp.testing.nodes import FAST_FAILOVER, FLASK, Balancer, running_nodes

WAYS = {False: "through the web", True: "straight to the bucket"}
PROCESSED = re.compile(r"photo processed .* session_id=(\S+)$", re.MULTILINE)
DEQUEUED = re.compile(r"workers\.jobs\.process_photo\('([^']+)'\)")
# What the reconciler needs to remove a half-made upload of the lost node: its age, then its next run.
CLEANUP_SECONDS = int(FAST_FAILOVER["RECONCILE_AFTER"]) + 3 * int(FAST_FAILOVER["RECONCILE_EVERY"])
JOB_PHOTOS = """
    SELECT m.upload_order, s.session_id::text, s.status
    FROM bulk_job_virtual_images m
    JOIN virtual_images v ON v.id = m.virtual_image_id
    JOIN photo_processing_sessions s ON s.session_id = v.session_id
    WHERE m.job_id = %s
"""


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--photos", type=int, default=100, help="photos in the batch (default 100)")
    parser.add_argument("--workers", type=int, default=2, help="workers per node (default 2)")
    parser.add_argument("--clients", type=int, default=4, help="parallel upload clients (default 4)")
    parser.add_argument("--kill", action="store_true", help="SIGKILL the second node mid-batch")
    parser.add_argument("--direct", action="store_true", help="send the files straight to the bucket")
    args = parser.parse_args()
    photos = make_photos(args.photos, {"jpeg": 1})
    with tempfile.TemporaryDirectory() as folder, backend("services") as env:
        env |= FAST_FAILOVER | {"SECRET_KEY": "bench", "PUBLIC_BASE_URL": "https://photos.example.com"}
        token = prepare(env)
        with running_nodes(Path(folder), 2, env, args.workers) as nodes:
            balancer = Balancer([node.base for node in nodes])
            kill = nodes[1].kill if args.kill else None
            run = send_batch(balancer, token, photos, args.clients, kill, args.direct)
            time.sleep(CLEANUP_SECONDS if args.kill else 0)
            logs = [node.log() for node in nodes]
        figures = count(env, run, args.photos, logs)
    return report(args, run, figures, logs)


def prepare(env: dict[str, str]) -> str:
    """Migrate the schema once (a release step, before any node starts) and make a user; its token."""
    env = os.environ | env
    subprocess.run([*FLASK, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    created = subprocess.run(
        [*FLASK, "users", "create", EMAIL, "--password", PASSWORD],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return created.stdout.split()[-1]


def send_batch(balancer: Balancer, token: str, photos: list[Photo], clients: int, kill, direct: bool) -> dict:
    """A job of the photos sent through the balancer (calling `kill` once half are answered), submitted
    and polled until it ends; what happened, with epoch times."""
    job_id = balancer.call("POST", "/api/bulk-nsfw/jobs", token, json={}).json()["job_id"]
    answered, killed_at, lock = [], [], threading.Lock()
    send_one = (
        _to_bucket(balancer, token, job_id) if direct else _through_web(balancer, token, job_id, photos)
    )

    def send(photo: Photo) -> requests.Response:
        answer = send_one(photo)
        with lock:
            answered.append(answer)
            if kill and not killed_at and len(answered) >= len(photos) // 2:
                kill()
                killed_at.append(time.time())
        return answer

    started = time.time()
    with ThreadPoolExecutor(clients) as pool:
        answers = list(pool.map(send, photos))
    resent = balancer.resent
    balancer.call("POST", f"/api/bulk-nsfw/jobs/{job_id}/submit", token).raise_for_status()
    status_path = f"/api/bulk-nsfw/jobs/{job_id}"
    while (job := balancer.call("GET", status_path, token).json())["status"] not in TERMINAL:
        time.sleep(0.5)
    return {
        "job": job,
        "refused": sum(not answer.ok or bool(answer.json().get("rejected")) for answer in answers),
        "started": started,
        "ended": time.time(),
        "killed": killed_at[0] if killed_at else None,
        "resent": resent,
    }


def _through_web(balancer: Balancer, token: str, job_id: str, photos: list[Photo]):
    """Each file in one request to a node, at its upload order."""
    bodies = {photo.number: multipart(photo) for photo in photos}

    def send(photo: Photo) -> requests.Response:
        body, content_type = bodies[photo.number]
        return balancer.send(
            lambda base: requests.post(
                f"{base}/api/bulk-nsfw/jobs/{job_id}/files",
                data=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
                timeout=120,
            )
        )

    return send


def _to_bucket(balancer: Balancer, token: str, job_id: str):
    """Each file straight to the bucket: its presigned POST and its completion asked of the nodes in turn."""

    def send(photo: Photo) -> requests.Response:
        declared = {
            "filename": photo.name,
            "size": len(photo.data),
            "content_type": "image/jpeg",
            "sha256": hashlib.sha256(photo.data).hexdigest(),
            "upload_order": photo.number,
        }
        issued = balancer.call("POST", "/api/uploads", token, json={"job_id": job_id, "files": [declared]})
        (upload,) = issued.json()["uploads"]
        requests.post(
            upload["url"], data=upload["fields"], files={"file": (photo.name, photo.data)}, timeout=120
        )
        return balancer.call("POST", upload["complete_url"], token)

    return send


def count(env: dict[str, str], run: dict, photos: int, logs: list[str]) -> dict[str, int]:
    """Duplicates, lost photos and stray objects, from PostgreSQL, the bucket and the nodes' logs."""
    with psycopg2.connect(env["DATABASE_URL"]) as connection, connection.cursor() as cursor:
        cursor.execute(JOB_PHOTOS, (run["job"]["job_id"],))
        rows = cursor.fetchall()
        cursor.execute("SELECT count(*) FROM photo_processing_sessions")
        (every_session,) = cursor.fetchone()
    sessions = {session for _, session, _ in rows}
    finished = Counter(session for log in logs for session in PROCESSED.findall(log))
    return {
        "sessions beyond one per upload order": every_session - len(rows),
        "photos finished twice": sum(runs - 1 for runs in finished.values()),
        "photos counted twice": max(0, run["job"]["processed"] - len(rows)),
        "accepted but not terminal": sum(status not in ("completed", "failed") for _, _, status in rows),
        "never accepted": photos - len(rows),
        "uploads refused": run["refused"],
        "objects outside a session of the job": sum(
            key.split("/", 1)[0] not in sessions for key in bucket_keys(env)
        ),
    }


def bucket_keys(env: dict[str, str]) -> list[str]:
    s3 = boto3.client(
        "s3",
        endpoint_url=env["S3_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def report(args: argparse.Namespace, run: dict, figures: dict[str, int], logs: list[str]) -> int:
    """The figures, one a line; non-zero when a duplicate, a lost photo or a stray object was found."""
    job, seconds = run["job"], run["ended"] - run["started"]
    print(
        f"\nphotogate on two nodes: {args.photos} photos (12 MP JPEG) {WAYS[args.direct]},"
        f" {args.clients} clients, {args.workers} workers a node on {os.cpu_count()} cores;"
        " PostgreSQL, Redis and moto's S3"
    )
    print(
        f"job: {job['status']}; {job['total']} photos, {job['processed']} processed, {job['failed']} failed;"
        f" approved {job['approved']}, flagged {job['flagged']}, rejected {job['rejected']}"
    )
    print(f"end to end:  {seconds:6.1f} s  {args.photos / seconds:6.2f} photos/s  from the first upload")
    for name, log in zip(("node-a", "node-b"), logs, strict=True):
        print(f"{name}: finished {len(PROCESSED.findall(log))} photos")
    if run["killed"]:
        lost = logs[1]
        in_hand = set(DEQUEUED.findall(lost)) - set(PROCESSED.findall(lost))
        print(
            f"node-b killed {run['killed'] - run['started']:.1f} s in, with {len(in_hand)} photos in hand;"
            f" the job ended {run['ended'] - run['killed']:.1f} s after the kill;"
            f" {run['resent']} requests got no answer and went to the other node"
        )
    for name, value in figures.items():
        print(f"{name + ':':<40} {value}")
    return 1 if any(figures.values()) or job["status"] != "completed" else 0


if __name__ == "__main__":
    sys.exit(main())
