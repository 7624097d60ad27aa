"""Pages say the same thing in the same words: refused at upload is not failed, states read as words,
an uploader sees only the labels that decided a verdict, the nav names the page it opens, and
"Stay logged in" is a choice."""

import pytest
import requests
from playwright.sync_api import expect

from tests.support.factories import image_bytes
from tests.support.reviews import UNDER_THRESHOLDS, waiting_photo
from webapp.testing.browser import log_in

pytestmark = pytest.mark.e2e


def test_a_job_page_names_the_file_refused_at_upload_and_the_list_does_not_call_it_failed(
    page, live_server, user, worker
):
    files = [
        ("files", ("harbour.jpg", image_bytes("JPEG", (400, 300)), "image/jpeg")),
        ("files", ("scan.pdf", b"%PDF-1.7 not a photo", "application/pdf")),
        ("files", ("pier.jpg", image_bytes("JPEG", (300, 400), color="navy"), "image/jpeg")),
    ]
    answer = requests.post(
        f"{live_server}/api/bulk-nsfw/upload", headers=user.headers, files=files, timeout=30
    )
    job_id = answer.json()["job_id"]
    log_in(page, live_server, user.email, user.password)

    page.goto(f"{live_server}/jobs")
    row = page.locator(f'#jobs tr[data-job-id="{job_id}"]')
    expect(row).to_have_attribute("data-status", "completed_with_errors", timeout=60_000)
    assert row.locator(".badge").inner_text() == "Completed with errors"
    expect(row.locator('[data-count="failed"]')).to_have_text("0")
    expect(row.locator('[data-count="refused"]')).to_have_text("1")

    row.locator("a").click()
    refusals = page.locator("details.refusals")
    expect(refusals.locator("summary")).to_have_text("1 file refused at upload: nothing of it was stored")
    expect(refusals.locator("tr[data-refused-order]")).to_have_count(1)
    expect(refusals.locator('tr[data-refused-order="1"]')).to_contain_text("scan.pdf")
    expect(refusals.locator('tr[data-refused-order="1"]')).to_contain_text("not a JPEG, PNG, WebP, GIF")
    expect(page.locator('[data-counter="failed"] dt')).to_have_text("failed in processing")
    expect(page.locator("table.job-images tr[data-upload-order]")).to_have_count(2)
    page.screenshot(path="/tmp/i19-words-job-refused.png", full_page=True)


def test_an_uploader_sees_no_label_under_the_thresholds_and_an_admin_sees_them_all(
    page, browser, live_server, app, user, admin, parked
):
    landscape = waiting_photo(app, user, "landscape.jpg", "approved", labels=UNDER_THRESHOLDS)
    log_in(page, live_server, user.email, user.password)

    page.goto(f"{live_server}/photos/{landscape.session_id}")

    expect(page.locator(".moderation .badge")).to_have_text("approved")
    expect(page.locator(".moderation [data-no-labels]")).to_have_text(
        "No label reached a threshold of the moderation policy."
    )
    expect(page.locator(".labels-table")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("Exposed Buttocks")

    admins = browser.new_context().new_page()
    log_in(admins, live_server, admin.email, admin.password)
    admins.goto(f"{live_server}/photos/{landscape.session_id}")
    expect(admins.locator(".labels-table")).to_contain_text("Exposed Buttocks or Anus")
    admins.context.close()


def test_the_nav_names_the_queues_page_it_opens_and_its_finished_work_is_counted(page, live_server, admin):
    log_in(page, live_server, admin.email, admin.password)

    page.click("nav >> text=Queues")

    page.wait_for_url(f"{live_server}/admin/queues")
    expect(page.locator("h1")).to_have_text("Queues")
    expect(page.locator("nav a[aria-current=page]")).to_have_text("Queues")
    expect(page.locator(".photo-counts [data-photos=completed]")).to_be_visible()
    expect(page.locator("table.queue-counts th", has_text="finished")).to_have_count(0)


@pytest.mark.parametrize("ticked", [False, True])
def test_only_stay_logged_in_keeps_a_remember_cookie(page, live_server, user, ticked):
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", user.password)
    if ticked:
        page.get_by_label("Stay logged in").check()
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/upload")

    remembered = [cookie for cookie in page.context.cookies() if cookie["name"] == "remember_token"]
    assert bool(remembered) == ticked
