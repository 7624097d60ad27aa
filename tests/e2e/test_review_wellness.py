"""A moderator's review settings in a real browser (issue 21): thumbnails blurred and in greyscale by
default, blur turned off on /account, reveal on hover, and an uploader's own photo never covered."""

import pytest
import requests
from playwright.sync_api import expect

from tests.support.factories import wait_for, wait_until_terminal
from tests.support.reviews import waiting_photo
from webapp.testing.browser import log_in

pytestmark = pytest.mark.e2e


def processed_photo(app, owner, filename: str):
    """A flagged photo whose thumbnails the worker has made."""
    photo = waiting_photo(app, owner, filename)
    wait_until_terminal(app, str(photo.session_id))
    return photo


def shown_filter(image) -> str:
    return image.evaluate("img => getComputedStyle(img).filter")


def thumbnail(page, photo):
    return page.locator(f"#review-{photo.virtual_image_id} .review-thumb img")


def test_a_moderator_reviews_blurred_greyscale_thumbnails_until_turning_blur_off(
    page, live_server, app, user, moderator, worker
):
    photo = processed_photo(app, user, "flagged.jpg")
    log_in(page, live_server, moderator.email, moderator.password)
    page.goto(live_server + "/review")

    covered = shown_filter(thumbnail(page, photo))
    assert "blur(" in covered and "grayscale(1)" in covered
    page.keyboard.press("v")
    # Revealed, the image is sharp; greyscale stays until the moderator turns it off.
    wait_for(lambda: shown_filter(thumbnail(page, photo)) == "grayscale(1)")

    page.goto(live_server + "/account")
    page.uncheck("#review-settings-form input[name=blur]")
    page.click("#review-settings-form button[type=submit]")
    expect(page.locator("#review-settings-form [role=status]")).to_have_text(
        "Saved: images are not blurred; flagged and rejected ones are in greyscale."
    )

    page.goto(live_server + "/review")
    assert shown_filter(thumbnail(page, photo)) == "grayscale(1)"
    expect(page.locator(f"#review-{photo.virtual_image_id} [data-reveal]")).to_have_count(0)


def test_with_reveal_on_hover_a_thumbnail_is_uncovered_while_the_pointer_is_on_it(
    page, live_server, app, user, moderator, worker
):
    photo = processed_photo(app, user, "flagged.jpg")
    settings = {"reveal": "hover", "greyscale": False}
    saved = requests.put(
        f"{live_server}/api/account/review-settings", headers=moderator.headers, json=settings, timeout=10
    )
    assert saved.json() == {"blur": True, "greyscale": False, "reveal": "hover"}
    log_in(page, live_server, moderator.email, moderator.password)
    page.goto(live_server + "/review")
    image = thumbnail(page, photo)
    assert shown_filter(image).startswith("blur(")

    image.hover()
    wait_for(lambda: shown_filter(image) == "none")
    page.mouse.move(0, 0)
    wait_for(lambda: shown_filter(image).startswith("blur("))


def test_a_moderators_own_photo_page_is_never_covered(page, live_server, app, user, moderator, worker):
    own = processed_photo(app, moderator, "mine.jpg")
    theirs = processed_photo(app, user, "theirs.jpg")
    log_in(page, live_server, moderator.email, moderator.password)

    page.goto(f"{live_server}/photos/{theirs.session_id}")
    expect(page.locator("#gallery figure img")).to_have_count(4)
    assert all("blur(" in shown_filter(image) for image in page.locator("#gallery figure img").all())

    page.goto(f"{live_server}/photos/{own.session_id}")
    expect(page.locator("#gallery figure img")).to_have_count(4)
    assert [shown_filter(image) for image in page.locator("#gallery figure img").all()] == ["none"] * 4
    expect(page.locator("#gallery [data-reveal]")).to_have_count(0)
