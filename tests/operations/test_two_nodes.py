"""Two nodes on one PostgreSQL, one Redis and one S3 (issue 24): a batch sent straight to the bucket,
each request to the server through both nodes as a load balancer sends it, is shared by their
workers; losing one node mid-batch (SIGKILL to every process of it) loses no photo, processes none
twice, keeps the job's counters exact and announces the job once."""

import hashlib
import itertools
import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import requests
from redis import Redis
from rq import Queue, Worker
from sqlalchemy import select

from tests.support.factories import encoded, scene, wait_for
from tests.support.standin import StandIn
from webapp.extensions import db
from webapp.models import BulkJobImage, PhotoSession, VirtualImage
from webapp.testing.nodes import FAST_FAILOVER, Balancer, Node, running_nodes

PHOTOS = 24
CLIENTS = 4
TERMINAL = {"completed", "completed_with_errors", "failed", "cancelled"}
OBJECTS = ("original.jpg", "thumbnail_original.jpg", "processed.avif", "thumbnail_processed.jpg")
# The line a worker logs once it has finished a photo (webapp/services/photos/processing.py).
PROCESSED = re.compile(r"photo processed .* session_id=(\S+)$", re.MULTILINE)
# Long enough for the reconciler to have queued a notification again if its delivery were not recorded.
DUPLICATE_WINDOW = int(FAST_FAILOVER["RECONCILE_AFTER"]) + 2 * int(FAST_FAILOVER["RECONCILE_EVERY"])


@dataclass(frozen=True)
class Photo:
    upload_order: int
    data: bytes

    @property
    def filename(self) -> str:
        return f"photo-{self.upload_order:03d}.jpg"


def send_file(balancer: Balancer, token: str, job_id: str, photo: Photo) -> requests.Response:
    """One file of the batch at its upload order, straight to the bucket: its presigned POST asked of one
    node, its completion of whichever the balancer picks next (the lost one too, until it is lost)."""
    declared = {
        "filename": photo.filename,
        "size": len(photo.data),
        "content_type": "image/jpeg",
        "sha256": hashlib.sha256(photo.data).hexdigest(),
        "upload_order": photo.upload_order,
    }
    issued = balancer.call("POST", "/api/uploads", token, json={"job_id": job_id, "files": [declared]})
    (upload,) = issued.json()["uploads"]
    sent = requests.post(upload["url"], data=upload["fields"], files={"file": (photo.filename, photo.data)})
    assert sent.status_code == 204, sent.text
    return balancer.call("POST", upload["complete_url"], token)


@pytest.fixture
def nodes(app, service_env, tmp_path):
    """Two nodes on the suite's services, each with two workers, on a queue of their own."""
    env = service_env | FAST_FAILOVER
    env |= {
        "QUEUE_NAME": f"{service_env['QUEUE_NAME']}-nodes",
        "PUBLIC_BASE_URL": "https://photos.example.com",
    }
    with running_nodes(tmp_path, 2, env) as started:
        yield started, Queue(env["QUEUE_NAME"], connection=Redis.from_url(env["REDIS_URL"]))
    for node in started:
        assert node.running() == [], f"{node.name} left processes behind"


def busy(node: Node, queue: Queue) -> bool:
    """Whether a worker of the node has a job in hand."""
    pids = set(node.pids())
    return any(worker.pid in pids and worker.get_current_job_id() for worker in Worker.all(queue=queue))


def ended(balancer: Balancer, token: str, job_id: str) -> dict | None:
    """The job's state and counters once it has ended."""
    job = balancer.call("GET", f"/api/bulk-nsfw/jobs/{job_id}", token).json()
    return job if job["status"] in TERMINAL else None


def test_a_node_lost_mid_batch_loses_nothing_and_does_nothing_twice(app, user, nodes, bucket_keys):
    (survivor, lost), queue = nodes
    photos = [Photo(n, encoded(scene(n, (1200, 900)), "JPEG", quality=90)) for n in range(PHOTOS)]
    balancer = Balancer([survivor.base, lost.base])
    secret = balancer.call("GET", "/api/account/signing-secret", user.token).json()["secret"]

    with StandIn(verifying_secret=secret) as receiver:
        created = balancer.call(
            "POST", "/api/bulk-nsfw/jobs", user.token, json={"callback_url": receiver.url}
        )
        job_id = created.json()["job_id"]

        def send(photo: Photo) -> requests.Response:
            return send_file(balancer, user.token, job_id, photo)

        with ThreadPoolExecutor(CLIENTS) as clients:
            answers = list(clients.map(send, photos[: PHOTOS // 2]))
            working = (survivor, lost)
            wait_for(lambda: all(PROCESSED.search(node.log()) and busy(node, queue) for node in working), 60)
            rest = [clients.submit(send, photo) for photo in photos[PHOTOS // 2 :]]
            # While a request to it is unanswered: the balancer has to send that one again.
            wait_for(lambda: balancer.in_flight[lost.base], 10, interval=0.005)
            lost.kill()
            answers += [answer.result() for answer in rest]

        assert [answer.status_code for answer in answers] == [202] * PHOTOS, [a.text for a in answers]
        stored = [answer.json() for answer in answers]
        assert sorted(image["upload_order"] for image in stored) == list(range(PHOTOS))
        assert balancer.call("POST", f"/api/bulk-nsfw/jobs/{job_id}/submit", user.token).status_code == 202
        job = wait_for(lambda: ended(balancer, user.token, job_id), 180, interval=0.5)
        receiver.wait_for_requests(1, timeout=30)
        time.sleep(DUPLICATE_WINDOW)
        deliveries = list(receiver.received)

    counts = {name: job[name] for name in ("total", "processed", "pending", "refused", "failed")}
    assert (job["status"], counts) == (
        "completed",
        {"total": PHOTOS, "processed": PHOTOS, "pending": 0, "refused": 0, "failed": 0},
    ), f"{balancer.resent} requests re-sent"
    assert job["approved"] + job["flagged"] + job["rejected"] + job["failed"] == PHOTOS

    with app.app_context():
        photos_of_job = db.session.execute(
            select(BulkJobImage.upload_order, PhotoSession.session_id, PhotoSession.status)
            .join(VirtualImage, VirtualImage.id == BulkJobImage.virtual_image_id)
            .join(PhotoSession, PhotoSession.session_id == VirtualImage.session_id)
            .where(BulkJobImage.job_id == job_id)
        ).all()
    assert sorted(order for order, _, _ in photos_of_job) == list(range(PHOTOS))
    assert {status.value for _, _, status in photos_of_job} == {"completed"}
    sessions = {str(session_id) for _, session_id, _ in photos_of_job}
    assert sessions == {image["session_id"] for image in stored}

    # What the lost node had half-made (a session, perhaps its original) the reconciler removes.
    def leftovers() -> tuple[set[str], set[str]]:
        with app.app_context():
            rows = db.session.scalars(select(PhotoSession.session_id).where(PhotoSession.owner_id == user.id))
            all_sessions = {str(session_id) for session_id in rows}
        expected = {f"{session}/{name}" for session in sessions for name in OBJECTS}
        return all_sessions - sessions, set(bucket_keys()) ^ expected

    wait_for(lambda: leftovers() == (set(), set()), 30, interval=0.5)

    assert len(deliveries) == 1, [d.headers["webhook-id"] for d in deliveries]
    event = deliveries[0]
    assert event.signature_valid
    assert (event.body["data"]["job_id"], event.body["data"]["total"]) == (job_id, PHOTOS)
    assert [image["upload_order"] for image in event.body["data"]["images"]] == list(range(PHOTOS))
    # One pipeline run finished per photo: what the lost node had in hand it never finished.
    finished = {node.name: PROCESSED.findall(node.log()) for node in (survivor, lost)}
    assert all(finished.values()), f"a node processed no photo: {finished}"
    runs = Counter(itertools.chain(*finished.values()))
    assert (set(runs), max(runs.values())) == (sessions, 1)
    # Nor did a photo's job end on the failed list, as an admin's queues page would show it.
    failed = [job for job in queue.failed_job_registry.get_job_ids() if job.startswith("process-photo-")]
    assert failed == []

    survivor.stop()
    assert survivor.running() == [] and lost.running() == []
