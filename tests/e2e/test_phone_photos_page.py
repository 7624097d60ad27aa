"""12 MP photos as phones write them, uploaded through the page and seen upright in the gallery."""

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.support.factories import marked, multi_picture_jpeg, red_corner
from webapp.testing.browser import log_in
from webapp.testing.images import heic_bytes

pytestmark = pytest.mark.e2e

PHONE_SIZE = (4000, 3000)  # as the sensor stores it; EXIF or irot 6 turns it into a 3000x4000 portrait
GAIN_MAP = Image.new("L", (1000, 750), 128)


@pytest.fixture(scope="module")
def phone_photos() -> list[dict]:
    portrait = marked(PHONE_SIZE)
    return [
        {"name": "IMG_4001.HEIC", "mimeType": "image/heic", "buffer": heic_bytes(portrait, 6, quality=60)},
        {
            "name": "PXL_ultra_hdr.jpg",
            "mimeType": "image/jpeg",
            "buffer": multi_picture_jpeg(portrait, GAIN_MAP, 6, gain_map_xmp=True),
        },
        {
            "name": "gain_map.jpg",
            "mimeType": "image/jpeg",
            "buffer": multi_picture_jpeg(portrait, GAIN_MAP, 6),
        },
    ]


def painted(page, url: str) -> Image.Image:
    """The image at `url` as the browser paints it on its own (EXIF and HEIF transforms applied)."""
    viewer = page.context.new_page()
    viewer.goto(url)
    shown = Image.open(io.BytesIO(viewer.locator("img").screenshot()))
    viewer.close()
    return shown


def test_phone_photos_complete_and_show_upright_in_the_gallery(page, live_server, user, worker, phone_photos):
    log_in(page, live_server, user.email, user.password)

    page.set_input_files("#file-input", phone_photos)

    galleries = {}
    for photo in phone_photos:
        card = page.locator("#cards .card", has_text=photo["name"])
        expect(card).to_have_attribute("data-status", "completed", timeout=60_000)
        galleries[photo["name"]] = card.locator("a.filename").get_attribute("href")
    for name, gallery in galleries.items():
        page.goto(live_server + gallery if gallery.startswith("/") else gallery)
        for kind in ("original", "processed", "thumbnail_processed"):
            image = page.locator(f'figure[data-kind="{kind}"] img')
            expect(image).to_be_visible()
            image.evaluate("img => img.decode()")
            natural = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
            assert natural[1] > natural[0], (name, kind, natural)
            assert red_corner(painted(page, image.evaluate("img => img.currentSrc"))) == "top_right", (
                name,
                kind,
            )
        caption = page.locator('figure[data-kind="original"] figcaption')
        expect(caption).to_contain_text("3000\u00d74000")  # the upright size
