"""Every page, as a person and as an admin, in a real browser: not one Content-Security-Policy
violation, no error in the console (the site's icon missing was one on every page), and nothing
the page hides shows."""

import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import hidden_but_shown
from tests.support.factories import image_bytes, make_user, wait_until_terminal
from tests.support.reviews import waiting_photo
from webapp.models import Role
from webapp.testing.browser import log_in

pytestmark = pytest.mark.e2e

# Runs in each document before its own scripts: keeps every violation it reports, and counts
# htmx's requests so a test can wait for a polling page to have polled.
WATCH = """
window.__cspViolations = [];
window.__htmxRequests = 0;
document.addEventListener("securitypolicyviolation", (event) => {
  const blocked = event.blockedURI || "inline code";
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.__cspViolations.push(`${event.effectiveDirective} refused ${blocked} at ${where}`);
});
document.addEventListener("htmx:afterRequest", () => { window.__htmxRequests += 1; });
"""


@dataclass
class Console:
    """What the browser printed: its reports about the policy, and every other error (a failed load too)."""

    policy: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def console(page: Page) -> Console:
    """What the browser prints; the page keeps its own policy reports in window.__cspViolations."""
    printed = Console()

    def keep(message) -> None:
        if "Content Security Policy" in message.text:
            printed.policy.append(message.text)
        elif message.type == "error":
            printed.errors.append(f"{message.text} ({message.location['url']})")

    page.add_init_script(WATCH)
    page.on("console", keep)
    page.on("dialog", lambda dialog: dialog.accept())  # hx-confirm before deleting or cancelling
    return printed


def assert_no_violation(page: Page, console: Console, where: str, *, answered_error: bool = False) -> None:
    """Once the page has loaded and, if anything on it polls, polled once: nothing was refused, nothing
    hidden shows and, unless the test made the server answer an error, the console printed none."""
    page.wait_for_load_state("load")
    if page.locator('[hx-trigger^="every"]').count():
        page.wait_for_function("() => window.__htmxRequests > 0")
    page.wait_for_timeout(200)  # reports are queued as tasks; let the last ones arrive
    assert page.evaluate("() => window.__cspViolations") == [], where
    assert console.policy == [], where
    assert answered_error or console.errors == [], where
    console.errors.clear()
    assert hidden_but_shown(page) == [], where


def visit(page: Page, console: Console, url: str, *, answered_error: bool = False) -> None:
    page.goto(url)
    assert_no_violation(page, console, url, answered_error=answered_error)


def policy(headers: dict[str, str]) -> dict[str, list[str]]:
    directives = [part.split() for part in headers["content-security-policy"].split(";")]
    return {name: sources for name, *sources in directives}


def assert_images_shown(page: Page) -> list[str]:
    """Every image of the page loaded (none refused); returns their origins."""
    page.wait_for_function("() => [...document.images].every((img) => img.complete)")
    images = page.locator("img").evaluate_all("imgs => imgs.map(img => [img.currentSrc, img.naturalWidth])")
    assert images and all(width > 0 for _, width in images), images
    return [f"{urlsplit(src).scheme}://{urlsplit(src).netloc}" for src, _ in images]


def test_every_page_a_person_sees_keeps_to_the_policy(page, live_server, user, worker, console):
    login = page.goto(live_server + "/login")
    assert_no_violation(page, console, "login")
    log_in(page, live_server, user.email, user.password)
    page.set_input_files(
        "#file-input", [{"name": "beach.jpg", "mimeType": "image/jpeg", "buffer": image_bytes()}]
    )
    card = page.locator("#cards .card")
    expect(card).to_have_attribute("data-status", "completed", timeout=30_000)
    assert_no_violation(page, console, "upload")
    session_id = card.get_attribute("data-session-id")

    visit(page, console, f"{live_server}/photos")
    assert_images_shown(page)
    visit(page, console, f"{live_server}/photos/{session_id}")
    image_origins = assert_images_shown(page)
    api = page.request.get(f"{live_server}/api/photos/{session_id}")
    script = page.request.get(f"{live_server}/static/js/htmx-actions.js")
    for path in ("/account", "/docs/api"):
        visit(page, console, live_server + path)
    # Admins' pages, someone else's photo, no page at all: the browser logs the error each answers.
    for path in ("/review", "/admin/queues", f"/photos/{uuid.uuid4()}", "/no-such-page"):
        visit(page, console, live_server + path, answered_error=True)

    visit(page, console, f"{live_server}/batch")
    page.set_input_files(
        "#batch-input", [{"name": "one.jpg", "mimeType": "image/jpeg", "buffer": image_bytes()}]
    )
    expect(page.locator("#batch-state")).to_have_text("Submitted: 1 stored, 0 refused.", timeout=30_000)
    assert_no_violation(page, console, "batch")
    page.click("#batch-job-link")
    page.wait_for_url(f"{live_server}/jobs/*")
    job_page = page.url
    assert_no_violation(page, console, "job")
    expect(page.locator("#job")).to_have_attribute("data-status", "completed", timeout=60_000)
    visit(page, console, f"{live_server}/jobs")

    # The deletes' "go to the list when done" lives in htmx-actions.js now, not in an hx-on handler.
    page.goto(job_page)
    page.click("text=Delete job and its photos")
    page.wait_for_url(f"{live_server}/jobs")
    assert_no_violation(page, console, "jobs after a delete")
    page.goto(f"{live_server}/photos/{session_id}")
    page.click("text=Delete photo")
    page.wait_for_url(f"{live_server}/photos")
    assert_no_violation(page, console, "photos after a delete")

    for response in (login, api, script):
        assert response.ok and policy(response.headers)["script-src"] == ["'self'"], response.url
    assert api.headers["content-type"] == "application/json"
    assert set(image_origins) <= set(policy(login.headers)["img-src"]) | {live_server}


def test_every_page_an_admin_sees_keeps_to_the_policy(page, live_server, app, user, worker, console):
    admin = make_user(app, "policy-admin@example.com", role=Role.ADMIN)
    queued, trailed = waiting_photo(app, user, "queued.jpg"), waiting_photo(app, user, "trailed.jpg")
    for photo in (queued, trailed):
        wait_until_terminal(app, str(photo.session_id))
    log_in(page, live_server, admin.email, admin.password)
    assert_no_violation(page, console, "upload")

    visit(page, console, f"{live_server}/review")
    assert_images_shown(page)
    page.keyboard.press("v")
    page.keyboard.press("a")
    expect(page.locator(f"#review-{queued.virtual_image_id}")).to_have_attribute("data-decided", "approved")
    assert_no_violation(page, console, "review after a decision")

    # The photo page's review form: an error is swapped in, a decision reloads the gallery.
    visit(page, console, f"{live_server}/photos/{trailed.session_id}")
    history = page.locator("#review-history")
    history.locator("button", has_text="Approve").evaluate("button => { button.value = 'maybe'; }")
    history.locator("button", has_text="Approve").click()
    expect(history.locator(".review-error")).to_have_text("The verdict must be 'approved' or 'rejected'.")
    history.locator("button", has_text="Reject").click()
    expect(page.locator("#review-history [data-review]")).to_have_count(1)
    expect(page.locator(".moderation .status-line .badge")).to_have_text("rejected")
    assert_no_violation(page, console, "photo page after a decision", answered_error=True)

    # The bank pages: a bank made through the list page's form, then its own page with its forms.
    visit(page, console, f"{live_server}/admin/banks")
    page.fill("input[name=name]", "Policy bank")
    page.click("text=Create bank")
    page.wait_for_url(f"{live_server}/admin/banks/*")
    expect(page.locator("h1")).to_contain_text("Policy bank")
    assert_no_violation(page, console, "bank page")

    job = page.request.post(f"{live_server}/api/bulk-nsfw/jobs", headers=admin.headers, data={})
    assert job.status == 201 and "content-security-policy" in job.headers
    visit(page, console, f"{live_server}/jobs/{job.json()['job_id']}")
    page.click("text=Cancel job")
    expect(page.locator("#job")).to_have_attribute("data-status", "cancelled")
    assert_no_violation(page, console, "job after a cancel")
    for path in (
        "/admin/queues",
        "/admin/banks",
        "/admin/users",
        "/admin/audit",
        "/jobs",
        "/upload",
        "/photos",
        "/batch",
        "/account",
    ):
        visit(page, console, live_server + path)
    visit(page, console, live_server + "/no-such-page", answered_error=True)


def test_the_first_run_keeps_to_the_policy(page, live_server, console):
    page.goto(live_server + "/")
    page.wait_for_url(live_server + "/setup")
    assert_no_violation(page, console, "first run")
    page.fill("input[name=email]", "first@example.com")
    page.fill("input[name=password]", "a long password")
    page.fill("input[name=password_again]", "another long password")
    page.click("button[type=submit]")
    expect(page.locator(".error-message")).to_be_visible()
    assert_no_violation(page, console, "first run refused", answered_error=True)
    page.fill("input[name=password]", "a long password")
    page.fill("input[name=password_again]", "a long password")
    page.click("button[type=submit]")
    page.wait_for_url(live_server + "/upload")
    assert_no_violation(page, console, "after the first run")
    visit(page, console, live_server + "/admin/users")
    visit(page, console, live_server + "/setup", answered_error=True)


def test_the_watch_sees_a_violation(page, live_server, console):
    page.goto(live_server + "/login")
    page.evaluate("document.head.append(Object.assign(document.createElement('script'), {textContent: '1'}))")

    with pytest.raises(AssertionError):
        assert_no_violation(page, console, "login with an inline script")
    assert page.evaluate("() => window.__cspViolations")
    assert console.policy


def test_the_watch_sees_a_console_error_and_a_hidden_element_shown(page, live_server, console):
    page.goto(live_server + "/login")
    page.evaluate("console.error('something broke')")
    with pytest.raises(AssertionError):
        assert_no_violation(page, console, "login with an error")

    console.errors.clear()
    page.evaluate(
        """() => {
          const shown = Object.assign(document.createElement("p"), {hidden: true, textContent: "secret"});
          shown.style.setProperty("display", "block", "important");
          document.body.append(shown);
        }"""
    )
    with pytest.raises(AssertionError):
        assert_no_violation(page, console, "login with a hidden element shown")


def test_a_browser_new_to_the_site_gets_its_icon_and_logs_no_error(fresh_page, live_server, user):
    errors: list[str] = []
    fresh_page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    log_in(fresh_page, live_server, user.email, user.password)
    for path in ("/login", "/photos", "/batch", "/jobs"):
        fresh_page.goto(live_server + path)
        fresh_page.wait_for_timeout(500)  # the browser asks for the icon once the page has loaded

    assert errors == []
    assert fresh_page.locator("link[rel=icon]").get_attribute("href") == "/favicon.ico"
    icon = fresh_page.request.get(live_server + "/favicon.ico")
    assert icon.ok and icon.headers["content-type"].startswith("image/")
    assert "max-age=604800" in icon.headers["cache-control"]
