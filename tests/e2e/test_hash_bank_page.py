"""An admin rejects a photo in review, and a resized copy of it uploaded later is rejected by the bank."""

import pytest
from playwright.sync_api import expect

from tests.support.factories import encoded, scene, upload, wait_until_terminal
from webapp.extensions import db
from webapp.imaging import MIN_QUALITY
from webapp.models import ModerationStatus, VirtualImage
from webapp.testing.browser import log_in

pytestmark = pytest.mark.e2e


def flag_for_review(app, virtual_image_id: str) -> None:
    """Leave a processed photo for a person, whatever its provider said; it must be hashed to match on."""
    with app.app_context():
        image = db.session.get(VirtualImage, virtual_image_id)
        assert image.pdq_hash and image.pdq_quality >= MIN_QUALITY
        image.moderation_status = ModerationStatus.FLAGGED
        db.session.commit()


def test_a_resized_copy_of_a_photo_rejected_in_review_arrives_rejected_by_the_bank(
    page, live_server, app, client, user, admin, worker
):
    picture = scene(7)
    original = upload(client, user.headers, encoded(picture, "JPEG", quality=90), "original.jpg").get_json()
    assert wait_until_terminal(app, original["session_id"]) == "completed"
    flag_for_review(app, original["virtual_image_id"])

    log_in(page, live_server, admin.email, admin.password)
    page.click("nav >> text=Review")
    page.wait_for_load_state()  # htmx loaded: a click before it would submit the card's form as a page
    card = page.locator(f"#review-{original['virtual_image_id']}")
    card.locator('[data-verdict="rejected"]').click()
    expect(card).to_have_attribute("data-decided", "rejected")

    page.click("nav >> text=Banks")
    expect(page.locator('tr[data-bank="Rejected in review"]')).to_contain_text("1 enabled of 1")

    page.click("nav >> text=Upload")
    # Files set before the page's script listens would never become a card (seen on a loaded machine).
    expect(page).to_have_url(f"{live_server}/upload")
    page.wait_for_load_state()
    half = picture.resize((picture.width // 2, picture.height // 2))
    page.set_input_files(
        "#file-input",
        [{"name": "copy.jpg", "mimeType": "image/jpeg", "buffer": encoded(half, "JPEG", quality=90)}],
    )
    copy = page.locator("#cards .card")
    expect(copy).to_have_attribute("data-status", "completed", timeout=30_000)
    copy.locator("a.filename").click()

    expect(page.locator(".moderation .status-line .badge")).to_have_text("rejected")
    decided = page.locator('[data-decided-by="hash_match"]')
    expect(decided).to_contain_text("Matched bank Rejected in review at distance")
    expect(decided.locator("[data-origin]")).to_have_attribute("href", f"/photos/{original['session_id']}")

    decided.locator("[data-entry]").click()
    expect(page.locator("h1")).to_contain_text("Rejected in review")
    expect(page.locator("tr[data-match]")).to_contain_text("copy.jpg")
    expect(page.locator('[data-count="matches"]')).to_have_text("1")
