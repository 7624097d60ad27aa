"""A person uploads a batch through the page in a real browser and watches its job finish."""

import pytest
from playwright.sync_api import expect

from tests.support.browser import log_in
from tests.support.factories import image_bytes

pytestmark = pytest.mark.e2e


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
