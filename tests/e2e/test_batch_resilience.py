"""Batches that meet real life in a real browser: a server that fails some attempts, a tab that closes.

The live server offers direct uploads (its storage is S3), so files go to the bucket and the page
completes each with the server; one test runs the path through the web server, as with local disk.
The failures are made by the test, in the browser's network layer (Playwright's routing), never by
the product. A worker processes the submitted jobs, so no test leaves queued work to the next.
"""

import json
import re
from collections import Counter

import pytest
from playwright.sync_api import Route, expect

from tests.support.batch import job_contents, job_id_of, sent_filename
from tests.support.browser import batch_controls, hidden_but_shown
from tests.support.factories import image_bytes
from webapp.testing.browser import log_in

pytestmark = pytest.mark.e2e

FILES_URL = "**/api/bulk-nsfw/jobs/*/files"
COMPLETE_URL = "**/api/uploads/*/complete"
UNAVAILABLE = json.dumps({"error": {"code": "service_unavailable", "message": "A backing service is down."}})


def photos(count: int, prefix: str = "photo") -> list[dict]:
    return [
        {
            "name": f"{prefix}-{n}.jpg",
            "mimeType": "image/jpeg",
            "buffer": image_bytes("JPEG", (320, 240), color=(n * 9 % 256, 90, 140)),
        }
        for n in range(count)
    ]


def test_files_the_web_server_fails_twice_are_retried_until_every_one_is_stored(
    page, live_server_without_direct_uploads, app, user, worker
):
    live_server = live_server_without_direct_uploads
    attempts: Counter[str] = Counter()

    def fail_flaky_files_twice(route: Route) -> None:
        name = sent_filename(route)
        attempts[name] += 1
        if name.startswith("flaky") and attempts[name] <= 2:
            route.fulfill(
                status=503, headers={"Retry-After": "1"}, content_type="application/json", body=UNAVAILABLE
            )
        else:
            route.continue_()

    log_in(page, live_server, user.email, user.password)
    page.route(FILES_URL, fail_flaky_files_twice)
    page.goto(live_server + "/batch")
    expect(page.locator("#batch-form:not([data-uploads-url])")).to_have_count(1)

    page.set_input_files("#batch-input", photos(4) + photos(2, "flaky"))

    expect(page.locator("#batch-state")).to_have_text("Submitted: 6 stored, 0 refused.", timeout=60_000)
    retried = page.locator('#batch-files tr[data-state="stored"]')
    expect(retried).to_have_count(2)
    for row in retried.all():
        expect(row).to_have_attribute("data-attempts", "3")
        expect(row).to_contain_text("flaky-")
    assert attempts == Counter(
        {**{f"photo-{n}.jpg": 1 for n in range(4)}, "flaky-0.jpg": 3, "flaky-1.jpg": 3}
    )
    held = job_contents(app, job_id_of(page))
    assert sorted(name for _, name in held) == sorted(
        [f"photo-{n}.jpg" for n in range(4)] + ["flaky-0.jpg", "flaky-1.jpg"]
    )
    assert len({order for order, _ in held}) == 6


def test_a_refusal_is_never_retried(page, live_server, user, worker, bucket_requests):
    sent: Counter[str] = Counter()

    def count(route: Route, name: str) -> None:
        sent[name] += 1
        route.continue_()

    log_in(page, live_server, user.email, user.password)
    page.route(bucket_requests, lambda route: count(route, sent_filename(route)))
    page.route(COMPLETE_URL, lambda route: count(route, "complete"))
    page.goto(live_server + "/batch")

    page.set_input_files(
        "#batch-input", [{"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"not pixels"}]
    )

    expect(page.locator("#batch-state")).to_have_text("Submitted: 0 stored, 1 refused.", timeout=30_000)
    expect(page.locator("#batch-files tr")).to_have_attribute("data-attempts", "1")
    assert sent == Counter({"notes.jpg": 1, "complete": 1})  # refused by the server's check of the object


def test_a_batch_interrupted_by_closing_the_tab_is_continued_and_holds_each_file_once(
    page, live_server, app, user, worker
):
    files = photos(12)
    answered: list[str] = []

    def stall_after_five(route: Route) -> None:
        if len(answered) < 5:
            answered.append(route.request.url)
            route.continue_()
        elif len(answered) == 5:
            # Completed by the server, but the answer is lost on the way back.
            answered.append(route.request.url)
            route.fetch()
            route.abort()
        # Every later completion hangs until the tab closes: those files are in the bucket, not the job.

    log_in(page, live_server, user.email, user.password)
    page.route(COMPLETE_URL, stall_after_five)
    page.goto(live_server + "/batch")
    page.set_input_files("#batch-input", files)
    job_id = job_id_of(page)
    expect(page.locator('[data-counter="stored"] dd')).to_have_text("5", timeout=30_000)
    # Browsers ask before leaving only a page the person has interacted with.
    page.click("#batch-state")

    with page.expect_event("dialog") as warning:
        page.close(run_before_unload=True)
    assert warning.value.type == "beforeunload"  # the browser warned: uploads were in flight
    with page.expect_event("close"):
        warning.value.accept()
    assert len(job_contents(app, job_id)) == 6

    again = page.context.new_page()
    again.goto(f"{live_server}/jobs/{job_id}")
    again.click("[data-resume] a")
    # Files picked before the batch page's script listens would be lost: a person cannot be that quick.
    again.wait_for_url(re.compile(r"/batch\?job="))
    again.wait_for_load_state()
    again.set_input_files("#batch-input", files)

    submitted = re.compile(r"Submitted: (\d+) stored, (\d+) already in the job, 0 refused\.")
    expect(again.locator("#batch-state")).to_have_text(submitted, timeout=60_000)
    stored, present = map(int, submitted.match(again.locator("#batch-state").inner_text()).groups())
    # At least the six the server held when the tab closed are skipped (a request still in flight
    # then may have reached it too); together they are every file.
    assert present >= 6 and stored + present == len(files)
    held = job_contents(app, job_id)
    assert sorted(name for _, name in held) == sorted(file["name"] for file in files)
    assert len({order for order, _ in held}) == len(files)


def test_a_paused_batch_starts_no_upload_until_it_is_resumed(
    page, live_server, app, user, worker, bucket_requests
):
    sent: list[str] = []

    def count(route: Route) -> None:
        sent.append(sent_filename(route))
        route.continue_()

    log_in(page, live_server, user.email, user.password)
    page.route(bucket_requests, count)
    page.goto(live_server + "/batch")
    page.set_input_files("#batch-input", photos(20))

    page.click("#batch-pause")

    # What was in flight finishes; nothing else starts while files wait (and hashing goes on).
    expect(page.locator('[data-counter="uploading"] dd')).to_have_text("0")
    expect(page.locator('[data-counter="hashing"] dd')).to_have_text("0")
    waiting = int(page.inner_text('[data-counter="waiting"] dd'))
    assert waiting > 0 and len(sent) == 20 - waiting
    expect(page.locator('[data-counter="stored"] dd')).to_have_text(str(len(sent)))
    assert "paused" in page.inner_text("#batch-state").lower()

    page.click("#batch-pause")

    expect(page.locator("#batch-state")).to_have_text("Submitted: 20 stored, 0 refused.", timeout=60_000)
    assert sorted(sent) == sorted(f"photo-{n}.jpg" for n in range(20))


def test_a_submit_the_server_fails_is_offered_again(page, live_server, user, worker):
    failures = iter([True])

    def fail_the_first_submit(route: Route) -> None:
        if next(failures, False):
            route.fulfill(
                status=503, headers={"Retry-After": "1"}, content_type="application/json", body=UNAVAILABLE
            )
        else:
            route.continue_()

    log_in(page, live_server, user.email, user.password)
    page.route("**/api/bulk-nsfw/jobs/*/submit", fail_the_first_submit)
    page.goto(live_server + "/batch")
    page.set_input_files("#batch-input", photos(3))

    expect(page.locator("#batch-state")).to_contain_text("The job could not be submitted", timeout=30_000)
    expect(batch_controls(page)).to_have_text(["Submit again"])
    page.click("#batch-submit")

    expect(page.locator("#batch-state")).to_have_text("Submitted: 3 stored, 0 refused.", timeout=30_000)
    expect(batch_controls(page)).to_have_text(["New batch"])


def fail_once(route: Route, failures: list[bool]) -> None:
    """Answer 503 while `failures` holds a True, one per request; then let requests through."""
    if failures and failures.pop():
        route.fulfill(
            status=503, headers={"Retry-After": "1"}, content_type="application/json", body=UNAVAILABLE
        )
    else:
        route.continue_()


def test_a_job_the_server_would_not_create_leaves_nothing_to_press_until_photos_are_picked_again(
    page, live_server, user, worker
):
    thrown: list[str] = []
    page.on("pageerror", lambda error: thrown.append(str(error)))
    failures = [True]
    log_in(page, live_server, user.email, user.password)
    page.route("**/api/bulk-nsfw/jobs", lambda route: fail_once(route, failures))
    page.goto(live_server + "/batch")

    page.set_input_files("#batch-input", photos(2))

    state = page.locator("#batch-state")
    expect(state).to_have_text(
        "The job could not be created: A backing service is down. Pick the photos again to retry."
    )
    expect(batch_controls(page)).to_have_text([])
    assert hidden_but_shown(page) == []
    # Pressed anyway (a script, an old tab): a button that means nothing here does nothing.
    for button in ("#batch-pause", "#batch-retry-failed", "#batch-submit"):
        page.dispatch_event(button, "click")
    page.wait_for_timeout(200)
    expect(state).to_contain_text("The job could not be created")
    assert thrown == []

    page.set_input_files("#batch-input", photos(2))

    expect(state).to_have_text("Submitted: 2 stored, 0 refused.", timeout=30_000)


@pytest.mark.parametrize(
    ("pressed", "outcome"),
    [
        ("Retry the failed files", "Submitted: 2 stored, 0 refused."),
        ("Submit without them", "Submitted: 0 stored, 0 refused, 2 not uploaded."),
    ],
)
def test_files_a_continued_job_could_not_check_are_retried_or_left_out(
    page, live_server, user, worker, pressed, outcome
):
    failures = [True]
    log_in(page, live_server, user.email, user.password)
    job = page.request.post(f"{live_server}/api/bulk-nsfw/jobs", headers=user.headers, data={})
    page.route("**/api/bulk-nsfw/jobs/*/check", lambda route: fail_once(route, failures))
    page.goto(f"{live_server}/batch?job={job.json()['job_id']}")

    page.set_input_files("#batch-input", photos(2))

    expect(page.locator("#batch-state")).to_contain_text("The job could not say which files it has")
    expect(page.locator('#batch-files tr[data-state="failed"]')).to_have_count(2)
    expect(batch_controls(page)).to_have_text(["Retry the failed files", "Submit without them"])
    assert hidden_but_shown(page) == []

    page.click(f"text={pressed}")

    expect(page.locator("#batch-state")).to_have_text(outcome, timeout=30_000)
    expect(batch_controls(page)).to_have_text(["New batch"])
    assert hidden_but_shown(page) == []
