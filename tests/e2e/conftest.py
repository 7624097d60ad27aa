"""Browser tests: Debian's headless Chromium, driven by Playwright, against a live gunicorn server.

The server is tests/conftest.py's `live_server`; the login steps are in tests/support/browser.py.
"""

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

# Without these, Chromium reaches for Google's services at start and this closed network refuses them.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("Debian's chromium is not installed: `make test` installs it (apt-get install chromium).")
    return found


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def fresh_page(browser) -> Iterator[Page]:
    """A page in a browser of its own: Chromium remembers an icon it could not load for as long as it
    runs, and never asks for it again, so only a new browser shows what a first visit meets."""
    own = browser.browser_type.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
    yield own.new_page()
    own.close()
