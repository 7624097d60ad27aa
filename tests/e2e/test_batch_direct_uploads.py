"""The batch page uploads straight to the bucket when the server offers it (issue 24): the web answers
small JSON requests only, refusals still show on the page, and a failing bucket is retried.

The bucket is moto's server, which checks no presigned POST's policy: what the server checks when
a file is completed is what these tests see refused. A worker processes the submitted jobs.
"""

import base64
import io
import random
import urllib.request
from collections import Counter, defaultdict

import pytest
from PIL import Image
from playwright.sync_api import Response, Route, expect
from prometheus_client.parser import text_string_to_metric_families

from tests.support.batch import job_contents, job_id_of, sent_filename
from tests.support.factories import image_bytes, scene
from webapp.testing.browser import log_in
from webapp.testing.images import heic_bytes

pytestmark = pytest.mark.e2e

UPLOADS_URL = "**/api/uploads"
COMPLETE_URL = "**/api/uploads/*/complete"
# What the web may receive per file of a direct batch: its line in a request for upload sessions
# (~170 bytes of JSON) and a share of the job's own requests. Completing a file sends no body.
JSON_BYTES_PER_FILE = 300


def noisy_photos(count: int, side: int = 256) -> list[dict]:
    """JPEGs of random pixels: each larger than everything a direct batch sends the web per file."""
    rng = random.Random(24)
    photos = []
    for n in range(count):
        buffer = io.BytesIO()
        Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3)).save(buffer, "JPEG", quality=95)
        photos.append({"name": f"photo-{n:03}.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()})
    return photos


def received_bytes(base: str) -> float:
    """The request body bytes the web server has received, from its /metrics."""
    text = urllib.request.urlopen(base + "/metrics", timeout=10).read().decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "photogate_http_received_bytes_total"
    )


def originals(keys: list[str]) -> list[str]:
    return [key for key in keys if key.rsplit("/", 1)[-1].startswith("original.")]


def asked_files(route: Route, asked: list[dict]) -> None:
    """Note the files a request for upload sessions names, and let it through."""
    if route.request.method == "POST":
        asked.extend(route.request.post_data_json["files"])
    route.continue_()


def bucket_error(route: Route, origin: str, status: int, code: str, message: str) -> None:
    """Answer a request to the bucket as S3 answers a failure, readable by the page (CORS)."""
    route.fulfill(
        status=status,
        headers={"Access-Control-Allow-Origin": origin},
        content_type="application/xml",
        body=f"<Error><Code>{code}</Code><Message>{message}</Message></Error>",
    )


def test_a_batch_of_200_goes_straight_to_the_bucket_and_the_web_receives_only_small_requests(
    page, live_server, app, user, worker, bucket_keys
):
    files = noisy_photos(200)
    budget = JSON_BYTES_PER_FILE * len(files)
    assert budget < min(len(file["buffer"]) for file in files)  # one file through the web would exceed it
    log_in(page, live_server, user.email, user.password)
    page.goto(live_server + "/batch")
    expect(page.locator("#batch-form")).to_have_attribute("data-uploads-url", "/api/uploads")
    before = received_bytes(live_server)

    page.set_input_files("#batch-input", files)

    expect(page.locator("#batch-state")).to_have_text("Submitted: 200 stored, 0 refused.", timeout=240_000)
    assert received_bytes(live_server) - before < budget
    expect(page.locator("#batch-files tr")).to_have_count(0)
    held = job_contents(app, job_id_of(page))
    assert sorted(name for _, name in held) == [file["name"] for file in files]
    assert sorted(order for order, _ in held) == list(range(200))
    assert len(originals(bucket_keys())) == 200


def test_refusals_show_on_the_page_and_a_file_too_large_is_never_read(
    page, live_server, user, worker, tmp_path
):
    asked: list[dict] = []
    (tmp_path / "photo.jpg").write_bytes(image_bytes("JPEG", (320, 240)))
    (tmp_path / "notes.jpg").write_bytes(b"not pixels")
    with (tmp_path / "huge.jpg").open("wb") as huge:
        huge.truncate(50 * 1024 * 1024 + 1)  # MAX_FILE_BYTES + 1, as a sparse file
    log_in(page, live_server, user.email, user.password)
    page.route(UPLOADS_URL, lambda route: asked_files(route, asked))
    page.goto(live_server + "/batch")

    page.set_input_files("#batch-input", [tmp_path / name for name in ("photo.jpg", "notes.jpg", "huge.jpg")])

    expect(page.locator("#batch-state")).to_have_text("Submitted: 1 stored, 2 refused.", timeout=30_000)
    notes = page.locator('#batch-files tr[data-state="refused"]', has_text="notes.jpg")
    expect(notes.locator(".detail")).to_contain_text("not a JPEG, PNG, WebP, GIF, HEIC or AVIF image")
    expect(notes).to_have_attribute("data-attempts", "1")
    huge = page.locator('#batch-files tr[data-state="refused"]', has_text="huge.jpg")
    expect(huge.locator(".detail")).to_have_text(
        "The file is 52,428,801 bytes; the limit is 52,428,800 bytes."
    )
    assert sorted(file["filename"] for file in asked) == ["notes.jpg", "photo.jpg"]


def test_a_photo_the_browser_gives_no_type_is_asked_for_by_its_extension(page, live_server, user, worker):
    asked: list[dict] = []
    log_in(page, live_server, user.email, user.password)
    page.route(UPLOADS_URL, lambda route: asked_files(route, asked))
    page.goto(live_server + "/batch")

    # Dropped, as a File of no type: Playwright's file picker would name a type from the extension.
    page.evaluate(
        """([name, base64]) => {
            const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
            const dropped = new DataTransfer();
            dropped.items.add(new File([bytes], name, { type: "" }));
            const drop = new DragEvent("drop", { dataTransfer: dropped, bubbles: true, cancelable: true });
            document.getElementById("batch-form").dispatchEvent(drop);
        }""",
        ["phone.HEIC", base64.b64encode(heic_bytes(scene(1, (96, 64)))).decode()],
    )

    expect(page.locator("#batch-state")).to_have_text("Submitted: 1 stored, 0 refused.", timeout=30_000)
    assert [file["content_type"] for file in asked] == ["image/heic"]


def test_a_failing_bucket_is_retried_and_each_file_ends_stored_once(
    page, live_server, app, user, worker, bucket_keys, bucket_requests
):
    posts: Counter[str] = Counter()
    answers: list[Response] = []
    # The first completion meets a server that is down; the second one finds nothing in the bucket.
    completions = iter(
        [
            (503, {"code": "service_unavailable", "message": "Down."}),
            (409, {"code": "upload_missing", "message": "Nothing was uploaded for this session yet."}),
        ]
    )

    def flaky_bucket(route: Route) -> None:
        name = sent_filename(route)
        posts[name] += 1
        if posts[name] > 1 or name.startswith("photo"):
            route.continue_()
        elif name.startswith("busy"):
            bucket_error(route, live_server, 503, "SlowDown", "Please reduce your request rate.")
        elif name.startswith("expired"):
            bucket_error(route, live_server, 403, "AccessDenied", "Invalid according to Policy: expired.")
        else:
            route.abort()  # the connection drops

    def first_completions_fail(route: Route) -> None:
        status, error = next(completions, (None, None))
        if status:
            route.fulfill(status=status, json={"error": error})
        else:
            route.continue_()

    log_in(page, live_server, user.email, user.password)
    page.route(bucket_requests, flaky_bucket)
    page.route(COMPLETE_URL, first_completions_fail)
    page.on("response", lambda response: answers.append(response))
    page.goto(live_server + "/batch")
    names = ["photo-0.jpg", "busy.jpg", "photo-1.jpg", "dropped.jpg", "expired.jpg"]
    files = [
        {
            "name": name,
            "mimeType": "image/jpeg",
            "buffer": image_bytes("JPEG", (320, 240), color=(n * 30, 90, 140)),
        }
        for n, name in enumerate(names)
    ]

    page.set_input_files("#batch-input", files)

    expect(page.locator("#batch-state")).to_have_text("Submitted: 5 stored, 0 refused.", timeout=60_000)
    # Each failure cost its file one attempt: three posts the bucket failed, each sent again; a
    # completion the server could not make, made again without sending the file; and one that found
    # no object, after which the file was sent again.
    assert all(posts[name] >= 2 for name in ("busy.jpg", "dropped.jpg", "expired.jpg"))
    assert sum(posts.values()) == len(names) + 3 + 1
    retried = page.locator('#batch-files tr[data-state="stored"]')
    attempts = retried.evaluate_all("rows => rows.map(row => Number(row.dataset.attempts))")
    assert sum(attempts) - len(attempts) == 5
    # The expired upload was signed again: the same session, a fresh presigned POST.
    sessions = defaultdict(list)
    for answer in answers:
        if answer.request.method == "POST" and answer.url.endswith("/api/uploads"):
            for upload in answer.json()["uploads"]:
                sessions[upload["filename"]].append(upload["session_id"])
    expired = sessions["expired.jpg"]
    assert len(expired) == 2 and expired[0] == expired[1]
    held = job_contents(app, job_id_of(page))
    assert sorted(name for _, name in held) == sorted(names)
    assert len(originals(bucket_keys())) == 5


def test_a_batch_starts_once_the_server_says_how_to_upload(page, live_server, user, worker):
    failures = [True]

    def fail_the_first_question(route: Route) -> None:
        if route.request.method == "GET" and failures and failures.pop():
            route.fulfill(status=503, json={"error": {"code": "service_unavailable", "message": "Down."}})
        else:
            route.continue_()

    log_in(page, live_server, user.email, user.password)
    page.route(UPLOADS_URL, fail_the_first_question)
    page.goto(live_server + "/batch")
    photo = {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": image_bytes("JPEG", (320, 240))}

    page.set_input_files("#batch-input", [photo])

    state = page.locator("#batch-state")
    expect(state).to_have_text(
        "The server could not say how to upload: Down. Pick the photos again to retry."
    )
    assert "job=" not in page.url  # no job was opened for a batch that could not start

    page.set_input_files("#batch-input", [photo])

    expect(state).to_have_text("Submitted: 1 stored, 0 refused.", timeout=30_000)
