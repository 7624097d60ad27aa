"""A person uploads a batch through the page in a real browser and watches its job finish."""

import time

import pytest
from playwright.sync_api import Route, expect

from tests.support.browser import batch_controls, hidden_but_shown
from tests.support.factories import image_bytes
from webapp.testing.browser import log_in

pytestmark = pytest.mark.e2e

COMPLETE_URL = "**/api/uploads/*/complete"


def photos(count: int) -> list[dict]:
    return [
        {"name": f"photo-{n}.jpg", "mimeType": "image/jpeg", "buffer": image_bytes("JPEG", (400, 300))}
        for n in range(count)
    ]


def test_a_batch_uploads_in_parallel_reports_each_file_and_its_job_page_finishes(
    page, live_server, user, worker
):
    log_in(page, live_server, user.email, user.password)
    page.goto(live_server + "/batch")
    files = [
        {
            "name": f"photo-{n}.jpg",
            "mimeType": "image/jpeg",
            "buffer": image_bytes("JPEG", (400, 300), color=(n * 20, 80, 120)),
        }
        for n in range(8)
    ]
    files.insert(3, {"name": "broken.jpg", "mimeType": "image/jpeg", "buffer": b"not pixels"})

    page.set_input_files("#batch-input", files)

    expect(page.locator("#batch-state")).to_have_text("Submitted: 8 stored, 1 refused.", timeout=30_000)
    # Stored files are counted; only the one that needs attention keeps a row.
    rows = page.locator("#batch-files tr")
    expect(rows).to_have_count(1)
    refused = rows.filter(has_text="broken.jpg")
    expect(refused).to_have_attribute("data-state", "refused")
    expect(refused.locator(".order")).to_have_text("4")  # the fourth file picked: numbered from 1
    expect(refused.locator(".detail")).to_contain_text("not a JPEG, PNG, WebP, GIF, HEIC or AVIF image")
    expect(page.locator('[data-counter="stored"] dd')).to_have_text("8")

    page.click("#batch-job-link")

    job = page.locator("#job")
    expect(job).to_have_attribute("data-status", "completed_with_errors", timeout=60_000)
    expect(page.locator('[data-counter="approved"] dd')).to_have_text("8")
    expect(page.locator('[data-counter="refused at upload"] dd')).to_have_text("1")
    expect(page.locator('table.job-images tr[data-moderation-status="approved"]')).to_have_count(8)
    orders = page.locator("table.job-images tr[data-upload-order]").evaluate_all(
        "rows => rows.map(row => Number(row.dataset.uploadOrder))"
    )
    assert orders == [0, 1, 2, 4, 5, 6, 7, 8]
    page.goto(live_server + "/jobs")
    expect(page.locator("#jobs tr[data-status]").first).to_have_attribute(
        "data-status", "completed_with_errors"
    )


def test_the_page_offers_pause_while_uploading_and_a_new_batch_once_submitted(
    page, live_server, user, worker
):
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)  # the file is in the bucket; completing it waits until the test lets it through

    log_in(page, live_server, user.email, user.password)
    page.route(COMPLETE_URL, hold)
    page.goto(live_server + "/batch")
    expect(page.locator("#batch-status")).to_be_hidden()
    assert hidden_but_shown(page) == []

    page.set_input_files("#batch-input", photos(3))

    expect(page.locator('[data-counter="uploading"] dd')).to_have_text("3")
    expect(batch_controls(page)).to_have_text(["Pause"])
    assert hidden_but_shown(page) == []
    page.click("#batch-pause")
    expect(batch_controls(page)).to_have_text(["Resume"])
    page.click("#batch-pause")
    # A file counts as uploading from its first request: let go only once all three wait on completion.
    deadline = time.monotonic() + 30
    while len(held) < 3 and time.monotonic() < deadline:
        page.wait_for_timeout(50)  # Playwright calls the route handler while the page is waited on
    assert len(held) == 3
    for route in held:
        route.continue_()

    expect(page.locator("#batch-state")).to_have_text("Submitted: 3 stored, 0 refused.", timeout=30_000)
    expect(batch_controls(page)).to_have_text(["New batch"])
    expect(page.locator("#batch-form")).to_be_hidden()
    assert hidden_but_shown(page) == []

    page.click("text=New batch")

    page.wait_for_url(live_server + "/batch")
    expect(page.locator("h1")).to_have_text("Moderate a batch")
    expect(page.locator("#batch-form")).to_be_visible()
    expect(page.locator("#batch-status")).to_be_hidden()
