"""What a page shows in a browser test, read through Playwright (logging in is webapp.testing.browser's)."""

from playwright.sync_api import Locator, Page


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
