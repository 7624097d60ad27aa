"""Browser sessions that really end, login redirects that stay on the site, and revoking access."""

import statistics
import time

import pytest

from tests.support.pages import _csrf_token, login
from webapp import create_app
from webapp.services.accounts.users import authenticate


def _post_login(client, email: str, password: str, query: str = "", remember: bool = True):
    page = client.get("/login").get_data(as_text=True)
    form = {"email": email, "password": password, "csrf_token": _csrf_token(page)}
    return client.post("/login" + query, data=form | ({"remember": "yes"} if remember else {}))


@pytest.mark.parametrize(
    ("next_url", "location"),
    [
        ("/%09/evil.example", "/upload"),  # the browser drops the tab: //evil.example
        ("/%0a/evil.example", "/upload"),
        ("%20//evil.example", "/upload"),
        ("//evil.example", "/upload"),
        ("/%5Cevil.example", "/upload"),  # a backslash is a slash to the browser
        ("%5C%5Cevil.example", "/upload"),
        ("https://evil.example/", "/upload"),
        ("javascript:alert(1)", "/upload"),
        ("/%0d%0aX:1", "/X:1"),  # no header injection, no 500
    ],
)
def test_login_never_redirects_off_the_site(client, user, next_url, location):
    response = _post_login(client, user.email, user.password, f"?next={next_url}")

    assert response.status_code == 302
    assert response.headers["Location"] == location


def test_login_keeps_a_path_of_this_site(client, user):
    response = _post_login(client, user.email, user.password, "?next=/photos%3Fpage%3D2")

    assert response.headers["Location"] == "/photos?page=2"


def _stolen_cookies(client) -> dict[str, str]:
    return {name: client.get_cookie(name).value for name in ("session", "remember_token")}


def _client_with(app, cookies: dict[str, str]):
    thief = app.test_client()
    for name, value in cookies.items():
        thief.set_cookie(name, value)
    return thief


def test_logout_ends_the_session_and_the_remember_cookie_everywhere(app, client, user):
    login(client, user.email, user.password, remember=True)
    cookies = _stolen_cookies(client)
    other_browser = app.test_client()
    login(other_browser, user.email, user.password, remember=True)
    assert _client_with(app, cookies).get("/photos").status_code == 200

    page = client.get("/upload").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": _csrf_token(page)})

    for name, value in cookies.items():
        assert _client_with(app, {name: value}).get("/photos").status_code == 302, name
    assert other_browser.get("/photos").status_code == 302
    thief = _client_with(app, cookies)
    write = thief.put("/api/account", json={"default_callback_url": None})
    assert write.status_code in (400, 401)


def test_the_remember_cookie_is_private_short_lived_and_new_after_each_logout(app, client, user):
    first = _post_login(client, user.email, user.password).headers.getlist("Set-Cookie")
    remember = next(cookie for cookie in first if cookie.startswith("remember_token="))
    assert "HttpOnly" in remember and "SameSite=Lax" in remember
    page = client.get("/upload").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": _csrf_token(page)})
    second = _post_login(client, user.email, user.password).headers.getlist("Set-Cookie")

    assert next(c for c in second if c.startswith("remember_token=")).split(";")[0] != remember.split(";")[0]
    expires = client.get_cookie("remember_token").expires
    assert expires is not None and expires.timestamp() - time.time() <= 14 * 86400 + 60


def test_only_stay_logged_in_sets_a_remember_cookie(client, user):
    form = client.get("/login").get_data(as_text=True)
    plain = _post_login(client, user.email, user.password, remember=False)
    other = client.application.test_client()
    ticked = _post_login(other, user.email, user.password, remember=True)

    assert 'type="checkbox" name="remember"' in form and "Stay logged in" in form
    assert plain.status_code == ticked.status_code == 302
    assert not any(c.startswith("remember_token=") for c in plain.headers.getlist("Set-Cookie"))
    assert any(c.startswith("remember_token=") for c in ticked.headers.getlist("Set-Cookie"))


def test_remember_cookie_is_secure_when_the_session_cookie_is(service_env, user):
    secure = create_app({"TESTING": True, "SESSION_COOKIE_SECURE": True})
    browser = secure.test_client()

    cookies = _post_login(browser, user.email, user.password).headers.getlist("Set-Cookie")

    for name in ("session=", "remember_token="):
        cookie = next(c for c in cookies if c.startswith(name))
        assert "Secure" in cookie and "SameSite=Lax" in cookie, cookie


def test_a_new_password_ends_every_other_session_but_keeps_this_one(app, client, user):
    other_browser = app.test_client()
    login(other_browser, user.email, user.password)
    login(client, user.email, user.password)
    page = client.get("/account").get_data(as_text=True)

    response = client.post(
        "/account/password",
        data={
            "current_password": user.password,
            "new_password": "a brand new passphrase",
            "csrf_token": _csrf_token(page),
        },
    )

    assert response.status_code == 302
    assert client.get("/photos").status_code == 200
    assert other_browser.get("/photos").status_code == 302
    assert _post_login(app.test_client(), user.email, "a brand new passphrase").status_code == 302


def test_a_wrong_current_password_changes_nothing(app, client, user):
    login(client, user.email, user.password)
    page = client.get("/account").get_data(as_text=True)

    response = client.post(
        "/account/password",
        data={
            "current_password": "not it",
            "new_password": "a brand new passphrase",
            "csrf_token": _csrf_token(page),
        },
    )

    assert response.status_code == 422
    assert "current password is not right" in response.get_data(as_text=True)
    assert _post_login(app.test_client(), user.email, user.password).status_code == 302


def test_cli_revokes_sessions_and_tokens_and_lists_tokens_without_secrets(app, client, user):
    login(client, user.email, user.password)
    runner = app.test_cli_runner()
    assert client.get("/api/photos", headers=user.headers).status_code == 200

    listing = runner.invoke(args=["users", "tokens", user.email])
    assert listing.exit_code == 0
    assert "last used 20" in listing.output and user.token not in listing.output
    assert "1 token(s)" in listing.output

    sessions = runner.invoke(args=["users", "revoke", user.email, "--sessions"])
    assert sessions.exit_code == 0
    assert client.get("/photos").status_code == 302
    assert client.get("/api/photos", headers=user.headers).status_code == 200

    tokens = runner.invoke(args=["users", "revoke", user.email, "--tokens"])
    assert "Deleted 1 API token(s)" in tokens.output
    assert client.get("/api/photos", headers=user.headers).status_code == 401


def test_an_unknown_email_takes_as_long_as_a_wrong_password(app, user):
    def seconds(email: str) -> float:
        start = time.perf_counter()
        assert authenticate(email, "not the password") is None
        return time.perf_counter() - start

    with app.app_context():
        seconds(user.email)  # both hashes ready
        seconds("nobody@example.com")
        wrong = statistics.median(seconds(user.email) for _ in range(5))
        unknown = statistics.median(seconds("nobody@example.com") for _ in range(5))

    assert 0.5 < unknown / wrong < 2
