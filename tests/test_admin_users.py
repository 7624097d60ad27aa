"""The admin users page: who may see it, the list, new users, new passwords and revoking access."""

import re
import uuid

import pytest
from sqlalchemy import select

from tests.support.pages import login, signed_in
from webapp.extensions import db
from webapp.models import User
from webapp.services.users import authenticate

NEW_PASSWORD = "a brand new password"


@pytest.fixture
def admin_browser(client, admin):
    return signed_in(client, admin)


def _form(browser, path: str, data: dict):
    return browser.post(path, data=data | {"csrf_token": browser.csrf_headers["X-CSRFToken"]})


def _row(page: str, email: str) -> str:
    return re.search(rf'<tr data-user="{re.escape(email)}">(.*?)</tr>', page, re.S).group(1)


def _logged_in(app, person):
    """A browser of its own, logged in as `person`."""
    browser = app.test_client()
    assert login(browser, person.email, person.password).headers["Location"] == "/upload"
    return browser


def test_the_users_page_is_for_admins_only(app, client, user, other_user):
    assert "/login" in client.get("/admin/users").headers["Location"]
    signed_in(client, user)
    token = client.csrf_headers["X-CSRFToken"]

    assert client.get("/admin/users").status_code == 403
    for path in (
        "/admin/users",
        f"/admin/users/{other_user.id}/password",
        f"/admin/users/{other_user.id}/revoke",
    ):
        form = {"email": "x@example.com", "password": NEW_PASSWORD, "csrf_token": token}
        assert client.post(path, data=form).status_code == 403, path
    assert "Users</a>" not in client.get("/upload").get_data(as_text=True)
    with app.app_context():
        assert authenticate(other_user.email, other_user.password)
        assert db.session.scalar(select(User).where(User.email == "x@example.com")) is None


def test_an_admin_sees_every_user_with_their_tokens(admin_browser, admin, user):
    admin_browser.get("/api/photos", headers=user.headers)  # the token's first use

    page = admin_browser.get("/admin/users").get_data(as_text=True)

    assert 'aria-current="page">Users</a>' in page
    mine, theirs = _row(page, admin.email), _row(page, user.email)
    assert "admin" in mine and "you" in mine and "never" in mine
    assert "<td>user</td>" in theirs and "<td>1</td>" in theirs and "never" not in theirs
    assert re.search(r"<time datetime=\"[^\"]+\+00:00\">\d{4}-\d\d-\d\d \d\d:\d\d UTC</time>", theirs)


@pytest.mark.parametrize("is_admin", [False, True])
def test_an_admin_creates_a_user_who_can_log_in(app, admin_browser, is_admin):
    form = {"email": "New@Example.com", "password": NEW_PASSWORD} | ({"is_admin": "true"} if is_admin else {})

    response = _form(admin_browser, "/admin/users", form)

    assert response.status_code == 303 and response.headers["Location"] == "/admin/users"
    page = admin_browser.get("/admin/users").get_data(as_text=True)
    assert f"Created {'admin' if is_admin else 'user'} new@example.com." in page
    assert ("<td>admin</td>" if is_admin else "<td>user</td>") in _row(page, "new@example.com")
    assert login(app.test_client(), "new@example.com", NEW_PASSWORD).headers["Location"] == "/upload"


@pytest.mark.parametrize(
    ("email", "password", "status", "message"),
    [
        ("admin@example.com", NEW_PASSWORD, 409, "A user with the email admin@example.com already exists."),
        ("nobody", NEW_PASSWORD, 400, "Not an email address: &#39;nobody&#39;"),
        ("new@example.com", "short", 422, "A password needs at least 10 characters."),
        ("new@example.com", "", 422, "A password needs at least 10 characters."),
    ],
)
def test_creating_a_user_refuses_bad_input_readably(app, admin_browser, email, password, status, message):
    response = _form(admin_browser, "/admin/users", {"email": email, "password": password})

    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert message in page and f'value="{email}"' in page  # the form again, as it was filled
    with app.app_context():
        assert db.session.scalar(select(User.email).where(User.email == "new@example.com")) is None


def test_a_new_password_ends_every_session_of_the_user(app, admin_browser, user):
    elsewhere = _logged_in(app, user)

    response = _form(admin_browser, f"/admin/users/{user.id}/password", {"password": NEW_PASSWORD})

    assert response.status_code == 303
    assert f"Password of {user.email} set" in admin_browser.get("/admin/users").get_data(as_text=True)
    assert "/login" in elsewhere.get("/photos").headers["Location"]
    with app.app_context():
        assert authenticate(user.email, user.password) is None
        assert authenticate(user.email, NEW_PASSWORD)
    assert elsewhere.get("/api/photos", headers=user.headers).status_code == 200  # tokens stay


def test_an_admin_who_sets_their_own_password_stays_logged_in(app, admin_browser, admin):
    elsewhere = _logged_in(app, admin)

    _form(admin_browser, f"/admin/users/{admin.id}/password", {"password": NEW_PASSWORD})

    assert admin_browser.get("/admin/users").status_code == 200
    assert "/login" in elsewhere.get("/admin/users").headers["Location"]


def test_a_weak_new_password_is_refused_on_its_row(app, admin_browser, user):
    elsewhere = _logged_in(app, user)

    response = _form(admin_browser, f"/admin/users/{user.id}/password", {"password": "short"})

    assert response.status_code == 422
    row = _row(response.get_data(as_text=True), user.email)
    assert "A password needs at least 10 characters." in row
    assert elsewhere.get("/photos").status_code == 200
    with app.app_context():
        assert authenticate(user.email, user.password)


def test_revoking_ends_the_sessions_and_deletes_the_tokens_of_the_user(app, admin_browser, user):
    elsewhere = _logged_in(app, user)

    response = _form(admin_browser, f"/admin/users/{user.id}/revoke", {})

    assert response.status_code == 303
    page = admin_browser.get("/admin/users").get_data(as_text=True)
    assert f"Ended every session of {user.email} and deleted 1 API token(s)." in page
    assert "<td>0</td>" in _row(page, user.email)
    assert "/login" in elsewhere.get("/photos").headers["Location"]
    assert app.test_client().get("/api/photos", headers=user.headers).status_code == 401
    assert login(app.test_client(), user.email, user.password).headers["Location"] == "/upload"


@pytest.mark.parametrize("user_id", [uuid.uuid4(), "not-a-uuid"])
def test_an_unknown_user_is_not_found(admin_browser, user_id):
    for action in ("password", "revoke"):
        response = _form(admin_browser, f"/admin/users/{user_id}/{action}", {"password": NEW_PASSWORD})
        assert response.status_code == 404
