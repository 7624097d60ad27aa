"""Steps a browser test takes through Playwright's page: logging in."""

from playwright.sync_api import Page


def log_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/upload")
