"""Photo cards keep one box whatever the photo's shape: a portrait does not stretch its row."""

import pytest
from playwright.sync_api import expect

from tests.support.factories import image_bytes
from webapp.testing.browser import log_in

pytestmark = pytest.mark.e2e

SHAPES = [(400, 300), (300, 400), (400, 300), (200, 800), (400, 300), (300, 400)]


def test_portrait_and_landscape_photos_get_cards_of_one_size_on_my_photos(page, live_server, user, worker):
    log_in(page, live_server, user.email, user.password)
    page.set_input_files(
        "#file-input",
        [
            {
                "name": f"{width}x{height}-{n}.jpg",
                "mimeType": "image/jpeg",
                "buffer": image_bytes("JPEG", (width, height)),
            }
            for n, (width, height) in enumerate(SHAPES)
        ],
    )
    expect(page.locator('#cards .card[data-status="completed"]')).to_have_count(len(SHAPES), timeout=60_000)

    page.goto(live_server + "/photos")
    page.wait_for_function("() => [...document.images].every((img) => img.complete && img.naturalWidth > 0)")

    thumbnails = [box(element) for element in page.locator(".card-image").all()]
    cards = [box(element) for element in page.locator(".card").all()]
    assert len(thumbnails) == len(cards) == len(SHAPES)
    assert len(set(thumbnails)) == 1, thumbnails
    width, height = thumbnails[0]
    assert abs(width / height - 4 / 3) < 0.02
    assert len(set(cards)) == 1, cards


def box(element) -> tuple[int, int]:
    """An element's painted width and height, in whole CSS pixels."""
    found = element.bounding_box()
    return round(found["width"]), round(found["height"])
