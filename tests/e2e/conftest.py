"""Browser tests: Debian's headless Chromium, driven by Playwright, against a live gunicorn server.

The server is tests/conftest.py's `live_server`; the login steps are in webapp/testing/browser.py.
"""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.processes import serve_web
from webapp.testing.browser import CHROMIUM_ARGS, chromium_path


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


@pytest.fixture(scope="session")
def live_server_without_direct_uploads(service_env, app) -> Iterator[str]:
    """A second gunicorn on the same services that offers no direct uploads (DIRECT_UPLOADS=false): its
    batch page sends every file through the web server, as it does with local storage."""
    with serve_web(service_env, {"DIRECT_UPLOADS": "false"}) as base:
        yield base


@pytest.fixture
def bucket_requests(service_env) -> str:
    """The route pattern of the browser's requests to the bucket (moto's server): direct uploads."""
    return f"{service_env['S3_ENDPOINT_URL']}/**"
