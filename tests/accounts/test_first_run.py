"""The first run: an empty site leads to a page that makes the first admin, once, even when raced."""

import re
import threading
import urllib.request
from collections import Counter
from collections.abc import Callable
from urllib.error import HTTPError
from urllib.parse import urlencode, urlsplit

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from tests.support.pages import login
from webapp import create_app
from webapp.extensions import db
from webapp.models import FirstRun, User

PASSWORD = "a long password"


def _csrf_token(page: str) -> str:
    """The CSRF token every page carries in its head (the setup form's, or the 404 page's)."""
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def _setup(client, email: str = "first@example.com", password: str = PASSWORD, again: str | None = None):
    page = client.get("/setup").get_data(as_text=True)
    form = {"email": email, "password": password, "password_again": password if again is None else again}
    return client.post("/setup", data=form | {"csrf_token": _csrf_token(page)})


def _accounts(app) -> tuple[int, int]:
    """How many users and first-run rows the database holds."""
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(User)),
            db.session.scalar(select(func.count()).select_from(FirstRun)),
        )


def test_an_empty_site_leads_to_the_first_run(client):
    for entrance in ("/", "/login", "/upload"):
        response = client.get(entrance, follow_redirects=True)
        assert response.request.path == "/setup", entrance
    page = client.get("/setup").get_data(as_text=True)
    assert "Welcome to photogate" in page and 'name="password_again"' in page


@pytest.mark.parametrize(
    ("email", "password", "again", "status", "message"),
    [
        ("first@example.com", PASSWORD, "another long one", 422, "The two passwords are not the same."),
        ("not an email", PASSWORD, None, 400, "Not an email address: &#39;not an email&#39;"),
        ("x" * 400 + "@example.com", PASSWORD, None, 400, "Not an email address"),
        ("first@example.com", "short", None, 422, "A password needs at least 10 characters."),
        ("first@example.com", "", None, 422, "A password needs at least 10 characters."),
    ],
)
def test_bad_input_is_refused_readably_and_makes_nothing(
    app, client, email, password, again, status, message
):
    response = _setup(client, email, password, again)

    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert message in page and 'name="password_again"' in page  # the form again, saying why
    assert _accounts(app) == (0, 0)
    assert client.get("/").headers["Location"] == "/setup"


def test_the_first_run_makes_an_admin_and_logs_them_in(app, client):
    response = _setup(client, " First@Example.com ")

    assert response.status_code == 302 and response.headers["Location"] == "/upload"
    page = client.get("/upload").get_data(as_text=True)
    assert "first@example.com · admin" in page and "is the admin" in page
    assert client.get("/admin/users").status_code == 200
    with app.app_context():
        admin = db.session.scalar(select(User))
        assert (admin.email, admin.is_admin) == ("first@example.com", True)
    assert _accounts(app) == (1, 1)


def test_after_the_first_run_the_page_is_gone_and_the_site_is_as_before(app, client):
    _setup(client)
    stranger = app.test_client()

    assert client.get("/setup").status_code == 404
    assert _setup(stranger, "second@example.com").status_code == 404
    gone = stranger.get("/setup")
    assert gone.status_code == 404 and "log in, or ask an admin" in gone.get_data(as_text=True)
    assert stranger.get("/").headers["Location"] == "/upload"
    assert stranger.get("/login").status_code == 200
    assert login(stranger, "first@example.com", PASSWORD).headers["Location"] == "/upload"
    assert _accounts(app) == (1, 1)


def test_an_account_from_the_command_line_closes_the_first_run(app, client, user):
    assert client.get("/setup").status_code == 404
    assert _setup(client).status_code == 404
    assert client.get("/").headers["Location"] == "/upload"
    assert client.get("/login").status_code == 200
    assert _accounts(app) == (1, 0)


def test_first_run_posts_are_rate_limited(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_ADDRESS", "2/minute")
    for _ in range(2):
        assert _setup(client, again="not the same one").status_code == 422

    limited = _setup(client)

    assert limited.status_code == 429 and "Retry-After" in limited.headers
    assert _accounts(app) == (0, 0)


def _race(attempts: int, attempt: Callable[[int, threading.Barrier], object]) -> Counter:
    """Run `attempts` first runs at once, each in its own thread; how many ended each way."""
    barrier = threading.Barrier(attempts, timeout=30)
    outcomes: list[object] = []
    threads = [
        threading.Thread(target=lambda n=n: outcomes.append(attempt(n, barrier))) for n in range(attempts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return Counter(outcomes)


def test_simultaneous_first_runs_on_postgresql_make_one_admin(app, live_server):
    def attempt(n: int, barrier: threading.Barrier) -> object:
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        token = _csrf_token(browser.open(live_server + "/setup").read().decode())
        # Different emails: the unique email must not be what keeps the second admin out.
        form = {"email": f"first-{n}@example.com", "password": PASSWORD, "password_again": PASSWORD}
        barrier.wait()
        try:
            with browser.open(
                live_server + "/setup", urlencode(form | {"csrf_token": token}).encode()
            ) as page:
                return urlsplit(page.url).path
        except HTTPError as error:
            return error.code

    # The server runs 4 threads: 4 posts are in flight at once.
    assert _race(4, attempt) == Counter({"/upload": 1, 404: 3})
    assert _accounts(app) == (1, 1)


def test_simultaneous_first_runs_on_sqlite_make_one_admin(app, tmp_path):
    embedded = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'first.db'}"})
    with embedded.app_context():
        upgrade()

    def attempt(n: int, barrier: threading.Barrier) -> object:
        client = embedded.test_client()
        token = _csrf_token(client.get("/setup").get_data(as_text=True))
        form = {"email": f"first-{n}@example.com", "password": PASSWORD, "password_again": PASSWORD}
        barrier.wait()
        return client.post("/setup", data=form | {"csrf_token": token}).status_code

    try:
        assert _race(6, attempt) == Counter({302: 1, 404: 5})
        assert _accounts(embedded) == (1, 1)
    finally:
        with embedded.app_context():
            db.engine.dispose()
