"""A person narrows My photos and a job page to the verdicts and states they look for, in a real browser."""

import pytest
from playwright.sync_api import expect

from tests.support.verdicts import job_with, photo_with, set_job_image
from webapp.testing.browser import log_in

pytestmark = pytest.mark.e2e

PHOTOS = [
    ("approved.jpg", "approved", "completed"),
    ("flagged-1.jpg", "flagged", "completed"),
    ("flagged-2.jpg", "flagged", "completed"),
    ("rejected.jpg", "rejected", "completed"),
    ("broken.jpg", "error", "failed"),
    ("waiting.jpg", "pending", "processing"),
]


def shown(cards) -> list[str]:
    return sorted(cards.locator("a.filename").all_inner_texts())


def test_my_photos_filters_by_verdict_and_state_and_back_undoes_a_filter(
    page, live_server, app, user, parked
):
    for described in PHOTOS:
        photo_with(app, user, *described)
    log_in(page, live_server, user.email, user.password)
    page.click("nav >> text=My photos")
    cards = page.locator("#photo-list .card")
    expect(cards).to_have_count(6)
    expect(page.locator('.card[data-verdict="flagged"][data-status="completed"] .card-status')).to_have_count(
        2
    )

    page.check("#filter-verdict-flagged")
    expect(page).to_have_url(f"{live_server}/photos?verdict=flagged")
    expect(cards).to_have_count(2)
    assert shown(cards) == ["flagged-1.jpg", "flagged-2.jpg"]

    page.check("#filter-verdict-error")
    expect(cards).to_have_count(3)
    page.check("#filter-state-failed")
    expect(page).to_have_url(f"{live_server}/photos?verdict=flagged&verdict=error&state=failed")
    expect(cards).to_have_count(1)
    assert shown(cards) == ["broken.jpg"]
    expect(page.locator('[data-count="verdict-flagged"]')).to_have_text("0")
    expect(page.locator("[data-matching]")).to_have_text("1 of 6 photos")

    page.go_back()
    expect(page).to_have_url(f"{live_server}/photos?verdict=flagged&verdict=error")
    expect(cards).to_have_count(3)
    expect(page.locator(".topbar nav")).to_be_visible()  # the whole page came back, not the list alone
    expect(page.locator("#filter-state-failed")).not_to_be_checked()

    page.click("text=Show all")
    expect(cards).to_have_count(6)


def test_the_filters_work_without_javascript(browser, live_server, app, user, parked):
    for described in PHOTOS:
        photo_with(app, user, *described)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    log_in(page, live_server, user.email, user.password)
    page.goto(f"{live_server}/photos")

    page.check("#filter-verdict-rejected")
    page.check("#filter-state-completed")
    page.click("form.filters button[type=submit]")

    expect(page).to_have_url(f"{live_server}/photos?filename=&verdict=rejected&state=completed")
    assert shown(page.locator(".card")) == ["rejected.jpg"]

    page.uncheck("#filter-verdict-rejected")
    page.fill("#photo-search", "FLAGGED")
    page.press("#photo-search", "Enter")  # the box outside the form is sent with it

    expect(page).to_have_url(f"{live_server}/photos?filename=FLAGGED&state=completed")
    assert shown(page.locator(".card")) == ["flagged-1.jpg", "flagged-2.jpg"]
    context.close()


def test_a_running_jobs_page_keeps_its_filter_while_it_polls(page, live_server, app, user, parked):
    job_id = job_with(
        app,
        user,
        [
            ("a.jpg", "approved", "completed"),
            ("b.jpg", "flagged", "completed"),
            ("c.jpg", "pending", "processing"),
            ("d.jpg", "flagged", "completed"),
            ("e.jpg", "error", "failed"),
        ],
    )
    log_in(page, live_server, user.email, user.password)
    page.goto(f"{live_server}/jobs/{job_id}")
    table = page.locator("table.job-images tr[data-upload-order]")
    expect(table).to_have_count(5)

    page.check("#filter-verdict-flagged")
    expect(page).to_have_url(f"{live_server}/jobs/{job_id}?verdict=flagged")
    expect(table).to_have_count(2)
    poll = f"{live_server}/jobs/{job_id}?page=1&verdict=flagged"
    with page.expect_response(poll, timeout=5_000):
        set_job_image(app, job_id, 2, "flagged", "completed")  # c.jpg is decided while the page watches

    expect(table).to_have_count(3)
    assert table.evaluate_all("rows => rows.map(row => row.dataset.moderationStatus)") == ["flagged"] * 3
    expect(page.locator("#filter-verdict-flagged")).to_be_checked()
    expect(page.locator("[data-matching]")).to_have_text("3 of 5 images")

    page.check("#filter-state-failed")
    page.uncheck("#filter-verdict-flagged")
    expect(page).to_have_url(f"{live_server}/jobs/{job_id}?state=failed")
    expect(table).to_have_count(1)
    expect(table).to_have_attribute("data-processing-status", "failed")


def test_my_photos_searches_by_filename_as_one_types_and_a_ticked_filter_applies_with_it(
    page, live_server, app, user, parked
):
    for name, verdict in [
        ("IMG_0001.JPG", "approved"),
        ("img_0002.jpg", "flagged"),
        ("beach 100%.jpg", "approved"),
        ("beach_1.jpg", "flagged"),
        ("sunset.png", "flagged"),
    ]:
        photo_with(app, user, name, verdict, "completed")
    log_in(page, live_server, user.email, user.password)
    page.click("nav >> text=My photos")
    cards = page.locator("#photo-list .card")
    expect(cards).to_have_count(5)

    box = page.locator("#photo-search").element_handle()
    page.locator("#photo-search").press_sequentially("img", delay=50)
    expect(page).to_have_url(f"{live_server}/photos?filename=img")
    assert shown(cards) == ["IMG_0001.JPG", "img_0002.jpg"]
    expect(page.locator('[data-count="verdict-flagged"]')).to_have_text("1")

    expect(
        page.locator("form.filters button[type=submit]")
    ).to_be_hidden()  # nothing to press: ticking applies
    page.check("#filter-verdict-flagged")
    expect(page).to_have_url(f"{live_server}/photos?filename=img&verdict=flagged")
    expect(cards).to_have_count(1)
    assert shown(cards) == ["img_0002.jpg"]
    expect(page.locator("[data-matching]")).to_have_text("1 of 5 photos")
    assert box.evaluate("box => box.isConnected")  # the box was never replaced, so no answer overwrote it
    page.screenshot(path="/tmp/i19_photos_search.png", full_page=True)

    page.fill("#photo-search", "100%")  # LIKE's wildcards are plain characters
    page.uncheck("#filter-verdict-flagged")
    expect(page).to_have_url(f"{live_server}/photos?filename=100%25")
    expect(cards).to_have_count(1)
    assert shown(cards) == ["beach 100%.jpg"]

    page.go_back()
    expect(page.locator("#photo-search")).to_have_value("img")
    expect(cards).to_have_count(1)
    page.fill("#photo-search", "")
    page.uncheck("#filter-verdict-flagged")
    expect(page).to_have_url(f"{live_server}/photos")
    expect(cards).to_have_count(5)
