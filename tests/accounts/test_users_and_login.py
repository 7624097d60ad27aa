"""Accounts from the command line, API tokens, and the login page."""

import re
import uuid

import requests

from tests.support.factories import image_bytes, upload
from tests.support.pages import _csrf_token, login


def _last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


def test_users_create_prints_a_working_api_token_last(app, client):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "New@Example.com", "--admin", "--password", "a long s3cret"]
    )

    assert result.exit_code == 0, result.output
    token = _last_line(result.output)
    response = client.get("/api/photos", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.get_json()["photos"] == []


def test_users_token_issues_another_token_and_both_work(app, client, user):
    result = app.test_cli_runner().invoke(args=["users", "token", user.email])

    assert result.exit_code == 0
    for token in (user.token, _last_line(result.output)):
        assert client.get("/api/photos", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_creating_a_user_twice_fails_clearly(app, user):
    result = app.test_cli_runner().invoke(args=["users", "create", user.email])

    assert result.exit_code != 0
    assert "already exists" in result.output


def test_the_login_page_gives_the_browser_a_session(client, user):
    assert client.get("/photos").status_code == 302

    response = login(client, user.email, user.password)

    assert response.status_code == 302
    assert client.get("/photos").status_code == 200


def test_a_wrong_password_is_refused_with_a_message(client, user):
    response = login(client, user.email, "wrong")

    assert response.status_code == 200
    assert "Wrong email or password." in response.get_data(as_text=True)
    assert client.get("/photos").status_code == 302


def test_login_redirects_only_within_the_site(client, user):
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login?next=https://evil.example/",
        data={"email": user.email, "password": user.password, "csrf_token": _csrf_token(page)},
    )

    assert response.headers["Location"] == "/upload"


def test_cookie_requests_without_the_csrf_token_are_refused(client, user):
    login(client, user.email, user.password)

    response = upload(client, {}, image_bytes())

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"


def test_admin_routes_answer_anonymous_requests_of_every_method_as_such_never_with_a_500(app, live_server):
    allowed: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/admin", "/review", "/api/banks")):
            allowed.setdefault(rule.rule, set()).update(rule.methods - {"HEAD"})
    assert len(allowed) >= 20

    answers, expected = {}, {}
    for rule, methods in allowed.items():
        path = re.sub(r"<[^>]+>", str(uuid.uuid4()), rule)
        for method in sorted(methods | {"GET", "OPTIONS"}):
            response = requests.request(method, live_server + path, allow_redirects=False, timeout=10)
            answers[method, path] = (response.status_code, response.headers.get("Location", "").split("?")[0])
            expected[method, path] = anonymous_answer(path, method, methods)

    assert answers == expected


def anonymous_answer(path: str, method: str, methods: set[str]) -> tuple[int, str]:
    """What someone not logged in gets: pages send them to log in (a form post first fails its CSRF
    check), the API answers 401, and OPTIONS on the API is Flask's own answer."""
    api = path.startswith("/api/")
    if method == "OPTIONS":
        return (200, "") if api else (302, "/login")
    if method not in methods:
        return (405, "")
    if api:
        return (401, "")
    return (302, "/login") if method == "GET" else (400, "")
