"""The first visit to an empty site, in a real browser: it makes the admin, then the page is gone."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

PASSWORD = "a long password"


def test_the_first_visit_makes_the_admin_and_the_page_then_answers_404(page, live_server):
    page.goto(live_server + "/")
    page.wait_for_url(live_server + "/setup")
    expect(page.locator("h1")).to_have_text("Welcome to photogate")

    page.fill("input[name=email]", "first@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=password_again]", "not the same password")
    page.click("button[type=submit]")
    expect(page.locator(".error-message")).to_have_text("The two passwords are not the same.")
    expect(page.locator("input[name=email]")).to_have_value("first@example.com")

    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=password_again]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server + "/upload")
    expect(page.locator(".who")).to_have_text("first@example.com · admin")
    expect(page.locator("nav")).to_contain_text("Users")

    gone = page.goto(live_server + "/setup")
    assert gone.status == 404
    expect(page.locator(".error-message")).to_contain_text("There are accounts here already")
    page.goto(live_server + "/")
    page.wait_for_url(live_server + "/upload")
