"""An admin imports a hash list with mistakes in it, in a real browser: the page shows each bad line as
it was written, and a reload shows the same report without sending the file again."""

import pytest
from playwright.sync_api import expect

from webapp.services.banks import banks
from webapp.testing.browser import log_in

pytestmark = pytest.mark.e2e

GOOD_HASH = "a" * 64


def test_a_failed_import_shows_the_bad_lines_and_a_reload_posts_nothing(
    page, live_server, app, admin, tmp_path
):
    with app.app_context():
        bank_id = banks.create_bank("Partner list", "reject").id
    listing = tmp_path / "partner.csv"
    listing.write_text(f"pdq,note\n{GOOD_HASH},fine\n<img src=x>,from the forum\n{'f' * 63}\n")
    log_in(page, live_server, admin.email, admin.password)
    page.goto(f"{live_server}/admin/banks/{bank_id}")

    page.set_input_files("#bank-import input[type=file]", str(listing))
    page.click("#bank-import button[type=submit]")

    report = page.locator(".import-error")
    expect(report).to_contain_text("Nothing was imported: 2 malformed lines.")
    expect(report.locator('[data-line="3"] code')).to_have_text("<img src=x>,from the forum")
    expect(report.locator('[data-line="4"] code')).to_have_text("f" * 63)
    assert page.locator(".import-error img").count() == 0  # shown as text, never as markup
    assert "/import" not in page.url and "import_report=" in page.url

    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.reload()

    expect(report.locator("[data-line]")).to_have_count(2)
    expect(page.locator("[data-count=entries]")).to_have_text("0")
    assert posts == []
    page.screenshot(path="/tmp/i19_bank_import.png", full_page=True)
