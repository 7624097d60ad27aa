"""A person uploads through the page in a real browser and watches the cards finish."""

import pytest
from playwright.sync_api import expect

from tests.support.factories import image_bytes
from webapp.testing.browser import log_in

pytestmark = pytest.mark.e2e


def test_uploading_photos_shows_cards_that_finish_and_a_refused_file_says_why(
    page, live_server, user, worker
):
    log_in(page, live_server, user.email, user.password)

    page.set_input_files(
        "#file-input",
        [
            {"name": "sunset.jpg", "mimeType": "image/jpeg", "buffer": image_bytes("JPEG", (2400, 1600))},
            {
                "name": "logo.png",
                "mimeType": "image/png",
                "buffer": image_bytes("PNG", (500, 500), alpha=True),
            },
            {"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"these are not pixels"},
        ],
    )

    cards = page.locator("#cards .card")
    expect(cards).to_have_count(3)
    for name in ("sunset.jpg", "logo.png"):
        card = cards.filter(has_text=name)
        expect(card).to_have_attribute("data-status", "completed", timeout=30_000)
        thumbnail = card.locator("img")
        expect(thumbnail).to_be_visible()
        assert thumbnail.evaluate("img => img.complete && img.naturalWidth > 0")
    refused = cards.filter(has_text="notes.jpg")
    expect(refused).to_have_attribute("data-status", "refused")
    expect(refused).to_contain_text("not a JPEG, PNG, WebP, GIF, HEIC or AVIF image")


def test_the_gallery_shows_original_and_processed_side_by_side(page, live_server, user, worker):
    log_in(page, live_server, user.email, user.password)
    page.set_input_files(
        "#file-input", [{"name": "a.jpg", "mimeType": "image/jpeg", "buffer": image_bytes()}]
    )
    card = page.locator("#cards .card").first
    expect(card).to_have_attribute("data-status", "completed", timeout=30_000)

    card.locator("a.filename").click()

    for kind in ("original", "processed", "thumbnail_original", "thumbnail_processed"):
        image = page.locator(f'figure[data-kind="{kind}"] img')
        expect(image).to_be_visible()
        assert image.evaluate("img => img.complete && img.naturalWidth > 0"), kind
    expect(page.locator("h1.filename")).to_have_text("a.jpg")


def test_my_photos_lists_what_was_uploaded(page, live_server, user, worker):
    log_in(page, live_server, user.email, user.password)
    page.set_input_files(
        "#file-input", [{"name": "kept.jpg", "mimeType": "image/jpeg", "buffer": image_bytes()}]
    )
    expect(page.locator("#cards .card").first).to_have_attribute("data-status", "completed", timeout=30_000)

    page.click("text=My photos")

    expect(page.locator(".card", has_text="kept.jpg")).to_have_attribute("data-status", "completed")


def test_dropping_files_on_the_page_uploads_them(page, live_server, user, worker):
    log_in(page, live_server, user.email, user.password)
    png = list(image_bytes("PNG", (300, 200)))

    page.evaluate(
        """bytes => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], "dropped.png", {type: "image/png"}));
            const drop = new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true});
            document.getElementById("upload-form").dispatchEvent(drop);
        }""",
        png,
    )

    card = page.locator("#cards .card", has_text="dropped.png")
    expect(card).to_have_attribute("data-status", "completed", timeout=30_000)
