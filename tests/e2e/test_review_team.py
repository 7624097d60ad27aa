"""Two moderators work the same review queue in two browsers and never see the same card."""

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.factories import make_user
from tests.support.reviews import waiting_photo
from webapp.models import Role
from webapp.testing.browser import log_in
from webapp.views.review import QUEUE_LENGTH

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("parked")]


def queue_of(browser: Browser, live_server: str, person) -> Page:
    """The review page of `person`, in a browser context of their own."""
    page = browser.new_context().new_page()
    log_in(page, live_server, person.email, person.password)
    page.goto(live_server + "/review")
    return page


def cards(page: Page) -> list[str]:
    return [card.get_attribute("id") for card in page.locator(".review-card").all()]


def test_two_moderators_never_see_the_same_card_and_what_one_releases_the_other_gets(
    browser, live_server, app, user
):
    # More than one page holds: the first to open the queue cannot take everything.
    photos = [waiting_photo(app, user, f"photo-{n}.jpg") for n in range(QUEUE_LENGTH + 2)]
    first, second = (make_user(app, f"moderator-{n}@example.com", role=Role.MODERATOR) for n in (1, 2))
    firsts = queue_of(browser, live_server, first)
    seconds = queue_of(browser, live_server, second)
    try:
        mine, theirs = cards(firsts), cards(seconds)
        assert len(mine) == QUEUE_LENGTH and len(theirs) == 2
        assert not set(mine) & set(theirs)
        assert set(mine) | set(theirs) == {f"review-{photo.virtual_image_id}" for photo in photos}
        expect(seconds.locator("[data-waiting]")).to_have_text("0")

        expect(firsts.locator(f"#{mine[0]}")).to_be_focused()
        waiting = int(firsts.locator("[data-waiting]").inner_text())  # as it was when the page loaded
        firsts.keyboard.press("u")

        expect(firsts.locator(f"#{mine[0]}")).to_have_count(0)
        expect(firsts.locator("[data-mine]")).to_have_text(str(QUEUE_LENGTH - 1))
        expect(firsts.locator("[data-waiting]")).to_have_text(str(waiting + 1))
        expect(firsts.locator(f"#{mine[1]}")).to_be_focused()
        seconds.reload()
        expect(seconds.locator(f"#{mine[0]}")).to_be_visible()
        assert not set(cards(firsts)) & set(cards(seconds))
        firsts.reload()
        assert mine[0] not in cards(firsts)
    finally:
        firsts.context.close()
        seconds.context.close()
