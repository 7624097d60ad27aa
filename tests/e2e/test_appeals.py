"""An uploader appeals a rejected photo from its page in a real browser; another moderator decides it, and
the uploader reads the outcome and the moderator's message, never who decided."""

import pytest
import requests
from playwright.sync_api import expect

from tests.support.factories import make_user, wait_until_terminal
from tests.support.reviews import image_state, waiting_photo
from webapp.models import ModerationStatus, Role
from webapp.testing.browser import log_in

pytestmark = pytest.mark.e2e


def review(live_server, moderator, photo, verdict: str, message: str | None = None) -> requests.Response:
    return requests.post(
        f"{live_server}/api/virtual-images/{photo.virtual_image_id}/review",
        headers=moderator.headers,
        json={"verdict": verdict, "message": message},
        timeout=30,
    )


def test_an_uploader_appeals_on_the_photo_page_and_reads_how_another_moderator_decided(
    page, live_server, app, user, worker
):
    first = make_user(app, "first@example.com", role=Role.MODERATOR)
    second = make_user(app, "second@example.com", role=Role.MODERATOR)
    photo = waiting_photo(app, user, "statue.jpg")
    wait_until_terminal(app, str(photo.session_id))
    assert review(live_server, first, photo, "rejected", "Nudity is not allowed.").status_code == 200
    log_in(page, live_server, user.email, user.password)
    page.goto(f"{live_server}/photos/{photo.session_id}")
    appeal = page.locator("#appeal")

    # Only spaces pass the browser's `required`; the server's answer says what is wrong, in the form.
    appeal.locator("textarea[name=message]").fill("   ")
    appeal.get_by_role("button", name="Appeal this decision").click()
    expect(appeal.get_by_role("alert")).to_contain_text("Say why the photo should be looked at again")
    appeal.locator("textarea[name=message]").fill("It is a marble statue in a museum.")
    appeal.get_by_role("button", name="Appeal this decision").click()

    expect(appeal).to_have_attribute("data-appeal", "pending")
    expect(appeal).to_contain_text("You appealed on")
    expect(appeal).to_contain_text("a moderator will look at it again.")
    expect(appeal.get_by_role("button", name="Appeal this decision")).to_have_count(0)
    same = review(live_server, first, photo, "approved")
    assert (same.status_code, same.json()["error"]["code"]) == (409, "same_reviewer")
    assert review(live_server, second, photo, "approved", "A statue: approved, sorry.").status_code == 200

    page.reload()

    expect(appeal).to_have_attribute("data-appeal", "overturned")
    expect(appeal).to_contain_text("Your appeal was overturned on")
    expect(appeal).to_contain_text("the photo is now approved.")
    expect(appeal).to_contain_text("Message from the moderator: A statue: approved, sorry.")
    expect(page.locator(".moderation [data-status]").first).to_have_attribute("data-status", "approved")
    assert second.email not in page.content() and first.email not in page.content()
    assert image_state(app, photo.virtual_image_id).moderation_status == ModerationStatus.APPROVED
