"""Steps a browser test takes through Playwright's page: logging in, and what a page shows."""

from playwright.sync_api import Locator, Page


def log_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/upload")


def hidden_but_shown(page: Page) -> list[str]:
    """Elements with the `hidden` attribute that the page shows anyway (a stylesheet's display beat
    it), each as the start of its HTML; empty when every hidden thing stays hidden."""
    return [
        element.evaluate("element => element.outerHTML.slice(0, 120)")
        for element in page.query_selector_all("[hidden]")
        if element.is_visible()
    ]


def batch_controls(page: Page) -> Locator:
    """The batch page's buttons (and its "New batch" link) that a person can see, in page order."""
    return page.locator(".batch-controls :is(button, a):visible")
