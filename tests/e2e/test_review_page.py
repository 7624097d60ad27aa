"""Moderators and admins work through the review queue in a real browser, mostly from the keyboard."""

from datetime import UTC, datetime, timedelta

import pytest
import requests
from playwright.sync_api import expect

from tests.support.factories import wait_until_terminal
from tests.support.reviews import claim_lapses, claimed_until, image_state, reviews_of, waiting_photo
from webapp.models import ModerationStatus
from webapp.testing.browser import log_in

pytestmark = pytest.mark.e2e


def processed_waiting_photos(app, owner, count: int):
    """Flagged photos whose thumbnails the worker has made, oldest first."""
    photos = [waiting_photo(app, owner, f"photo-{n}.jpg") for n in range(count)]
    for photo in photos:
        wait_until_terminal(app, str(photo.session_id))
    return photos


def open_queue(page, live_server, admin):
    log_in(page, live_server, admin.email, admin.password)
    page.click("nav >> text=Review")
    page.wait_for_url(live_server + "/review")


def card(page, photo):
    return page.locator(f"#review-{photo.virtual_image_id}")


def thumbnail_filter(page, photo) -> str:
    return card(page, photo).locator("img").evaluate("img => getComputedStyle(img).filter")


def test_an_admin_reveals_and_approves_from_the_keyboard_and_the_photo_page_shows_it(
    page, live_server, app, user, admin, worker
):
    first, second = processed_waiting_photos(app, user, 2)
    open_queue(page, live_server, admin)

    expect(card(page, first)).to_be_focused()
    assert thumbnail_filter(page, first).startswith("blur(")
    page.keyboard.press("v")
    # Sharp once revealed; still in greyscale, as flagged images are by default (issue 21).
    assert thumbnail_filter(page, first) == "grayscale(1)"
    assert thumbnail_filter(page, second).startswith("blur(")

    # Typing a note, "a" included, must not approve anything; Escape hands the keys back to the card.
    card(page, first).locator("textarea[name=note]").press_sequentially("a beach")
    page.keyboard.press("Escape")
    expect(card(page, first)).to_be_focused()
    page.keyboard.press("a")

    expect(card(page, first)).to_have_attribute("data-decided", "approved")
    expect(card(page, first)).to_contain_text("Approved by you — undo is not possible.")
    expect(card(page, second)).to_be_focused()
    expect(page.locator("[data-mine]")).to_have_text("1")
    [review] = reviews_of(app, first.virtual_image_id)
    assert (review.verdict_after, review.note) == ("approved", "a beach")

    page.goto(f"{live_server}/photos/{first.session_id}")
    expect(page.locator("[data-review]")).to_have_count(1)
    expect(page.locator("[data-review]")).to_contain_text("admin@example.com changed flagged → approved on")
    expect(page.locator("[data-review]")).to_contain_text(": a beach")


def test_two_selected_cards_are_rejected_together(page, live_server, app, user, admin, worker):
    first, second, kept = processed_waiting_photos(app, user, 3)
    open_queue(page, live_server, admin)
    bulk_reject = page.locator("#review-bulk button", has_text="Reject selected")
    expect(bulk_reject).to_be_disabled()

    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(page.locator("[data-selected-count]")).to_have_text("2")
    page.fill("#review-bulk textarea[name=note]", "not for this site")
    bulk_reject.click()

    expect(page.locator("[data-mine]")).to_have_text("1")
    expect(page.locator(".review-card")).to_have_count(1)
    expect(card(page, kept)).to_be_focused()
    for photo in (first, second):
        assert image_state(app, photo.virtual_image_id).moderation_status == ModerationStatus.REJECTED
        [review] = reviews_of(app, photo.virtual_image_id)
        assert review.note == "not for this site"


def test_a_refused_decision_shows_the_servers_message_on_its_card(
    page, live_server, app, user, admin, worker
):
    [photo] = processed_waiting_photos(app, user, 1)
    open_queue(page, live_server, admin)
    # A verdict the server does not know, as a stale or tampered page could send.
    card(page, photo).locator('[data-verdict="approved"]').evaluate("button => { button.value = 'maybe'; }")

    page.keyboard.press("a")

    error = card(page, photo).locator("[data-error]")
    expect(error).to_be_visible()
    expect(error).to_have_text("The verdict must be 'approved' or 'rejected'.")
    expect(card(page, photo)).not_to_have_attribute("data-decided", "approved")
    assert image_state(app, photo.virtual_image_id).moderation_status == ModerationStatus.FLAGGED


def test_an_admin_decides_on_the_photo_page_and_the_uploader_reads_only_the_message(
    page, browser, live_server, app, user, admin, worker
):
    [photo] = processed_waiting_photos(app, user, 1)
    log_in(page, live_server, admin.email, admin.password)
    page.goto(f"{live_server}/photos/{photo.session_id}")
    history = page.locator("#review-history")
    expect(history).to_contain_text("No person has reviewed this photo.")

    history.locator("textarea[name=note]").fill("too much skin")
    history.locator("textarea[name=message]").fill("Please upload a covered version.")
    history.locator("button", has_text="Reject").click()

    expect(history.locator("[data-review]")).to_have_count(1)
    expect(history.locator("[data-review]")).to_contain_text(
        "admin@example.com changed flagged → rejected on"
    )
    expect(history.locator("[data-review]")).to_contain_text("too much skin")
    expect(history.locator("[data-message]")).to_have_text(
        "Message to the uploader: Please upload a covered version."
    )
    expect(page.locator(".moderation .status-line .badge")).to_have_text("rejected")
    history.locator("button", has_text="Approve").evaluate("button => { button.value = 'maybe'; }")
    history.locator("button", has_text="Approve").click()
    expect(history.locator(".review-error")).to_have_text("The verdict must be 'approved' or 'rejected'.")
    expect(history.locator("[data-review]")).to_have_count(1)

    uploaders = browser.new_context().new_page()
    log_in(uploaders, live_server, user.email, user.password)
    uploaders.goto(f"{live_server}/photos/{photo.session_id}")
    trail = uploaders.locator("#review-history [data-review]")
    expect(trail).to_contain_text("Reviewed by a moderator on")
    expect(trail).to_contain_text("flagged → rejected")
    expect(trail.locator("[data-message]")).to_have_text(
        "Message from the moderator: Please upload a covered version."
    )
    expect(trail).not_to_contain_text("admin@example.com")
    expect(trail).not_to_contain_text("too much skin")
    uploaders.context.close()


@pytest.mark.usefixtures("parked")
def test_a_moderator_escalates_with_e_and_an_admin_finds_it_on_the_escalated_tab(
    page, browser, live_server, app, user, moderator, admin
):
    doubtful, kept = (waiting_photo(app, user, name) for name in ("doubtful.jpg", "kept.jpg"))
    open_queue(page, live_server, moderator)
    expect(page.locator(".review-tabs")).to_have_count(0)
    card(page, doubtful).locator("textarea[name=note]").fill("Looks like a minor?")
    page.keyboard.press("Escape")

    page.keyboard.press("e")

    expect(card(page, doubtful)).to_have_count(0)
    expect(card(page, kept)).to_be_focused()
    expect(page.locator("[data-mine]")).to_have_text("1")
    escalated = image_state(app, doubtful.virtual_image_id)
    assert escalated.escalation_note == "Looks like a minor?" and escalated.claimed_by_id is None
    admins = browser.new_context().new_page()
    open_queue(admins, live_server, admin)
    assert card(admins, doubtful).count() == 0
    admins.click("text=Escalated (1)")
    admins.wait_for_url(live_server + "/review?queue=escalated")
    expect(card(admins, doubtful).locator("[data-escalation]")).to_contain_text(
        "Escalated by moderator@example.com on"
    )
    expect(card(admins, doubtful).locator("[data-escalation]")).to_contain_text("Looks like a minor?")
    card(admins, doubtful).locator('[data-verdict="rejected"]').click()
    expect(card(admins, doubtful)).to_have_attribute("data-decided", "rejected")
    admins.context.close()


@pytest.mark.usefixtures("parked")
def test_deciding_a_card_an_admin_took_over_shows_why_on_the_card(
    page, live_server, app, user, moderator, admin
):
    photo = waiting_photo(app, user, "a.jpg")
    open_queue(page, live_server, moderator)
    taken = requests.post(
        f"{live_server}/api/review/items/{photo.virtual_image_id}/claim",
        headers=admin.headers,
        json={"take_over": True},
        timeout=10,
    )
    assert taken.status_code == 200

    page.keyboard.press("a")

    error = card(page, photo).locator("[data-error]")
    expect(error).to_have_text(
        "Another moderator holds this image; it returns to the queue if they let it go."
    )
    expect(card(page, photo)).not_to_have_attribute("data-decided", "approved")
    assert reviews_of(app, photo.virtual_image_id) == []


@pytest.mark.usefixtures("parked")
def test_working_on_the_page_renews_its_claims_at_most_once_a_minute(page, live_server, app, user, moderator):
    photo = waiting_photo(app, user, "a.jpg")
    page.clock.install()
    open_queue(page, live_server, moderator)
    renewals = []
    page.on("request", lambda request: request.url.endswith("/review/renew") and renewals.append(request))
    page.keyboard.press("j")  # the page renewed the claims as it loaded
    soon = datetime.now(UTC) + timedelta(seconds=20)
    claim_lapses(app, photo.virtual_image_id, soon)

    page.clock.fast_forward("01:01")
    with page.expect_response(lambda response: response.url.endswith("/review/renew")) as renewal:
        page.keyboard.press("j")
    page.keyboard.press("k")
    card(page, photo).click()

    assert renewal.value.status == 204
    assert claimed_until(app, photo.virtual_image_id) > soon + timedelta(seconds=200)
    page.clock.fast_forward("01:01")
    with page.expect_response(lambda response: response.url.endswith("/review/renew")):
        card(page, photo).click()
    assert len(renewals) == 2
