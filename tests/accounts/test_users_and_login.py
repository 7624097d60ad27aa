"""Accounts from the command line, API tokens, and the login page."""

import pytest
import requests

from tests.support.factories import image_bytes, upload
from tests.support.pages import _csrf_token, login
from tests.support.routes import example_path


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


@pytest.mark.parametrize(
    ("options", "role"),
    [
        ([], "user"),
        (["--role", "moderator"], "moderator"),
        (["--role", "admin"], "admin"),
        (["--admin"], "admin"),
        (["--admin", "--role", "admin"], "admin"),
    ],
)
def test_users_create_gives_the_role_asked_for(app, client, options, role):
    result = app.test_cli_runner().invoke(args=["users", "create", "new@example.com", *options])

    assert result.exit_code == 0, result.output
    assert f"Created {role} new@example.com." in result.output
    headers = {"Authorization": f"Bearer {_last_line(result.output)}"}
    # Moderators read the hash banks; only admins see the users' queues.
    assert client.get("/api/banks", headers=headers).status_code == (403 if role == "user" else 200)
    assert client.get("/admin/queues", headers=headers).status_code == (200 if role == "admin" else 403)


def test_users_create_refuses_admin_and_another_role_at_once(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "new@example.com", "--admin", "--role", "moderator"]
    )

    assert result.exit_code == 2
    assert "--admin and --role moderator disagree" in result.output
    assert app.test_cli_runner().invoke(args=["users", "token", "new@example.com"]).exit_code == 1


def test_users_role_changes_a_role_and_keeps_the_last_admin(app, client, user, admin):
    runner = app.test_cli_runner()

    result = runner.invoke(args=["users", "role", user.email, "moderator"])

    assert result.exit_code == 0, result.output
    assert f"{user.email} is now a moderator." in result.output
    assert client.get("/api/banks", headers=user.headers).status_code == 200
    refused = runner.invoke(args=["users", "role", admin.email, "moderator"])
    assert refused.exit_code == 1
    assert "That is the last active admin: make another admin first." in refused.output
    assert client.get("/admin/queues", headers=admin.headers).status_code == 200

    assert runner.invoke(args=["users", "role", user.email, "admin"]).exit_code == 0
    # Another admin exists now: the command line, no admin itself, may unmake either.
    demoted = runner.invoke(args=["users", "role", admin.email, "user"])
    assert demoted.exit_code == 0 and f"{admin.email} is now a user." in demoted.output
    assert client.get("/api/banks", headers=admin.headers).status_code == 403


def test_users_role_needs_a_known_user_and_role(app, user):
    runner = app.test_cli_runner()

    assert (
        "No user with the email nobody@example.com."
        in runner.invoke(args=["users", "role", "nobody@example.com", "admin"]).output
    )
    unknown = runner.invoke(args=["users", "role", user.email, "owner"])
    assert unknown.exit_code == 2 and "'owner' is not one of 'user', 'moderator', 'admin'" in unknown.output


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
    prefixes = ("/admin", "/review", "/api/banks")
    paths = {example_path(rule.rule) for rule in app.url_map.iter_rules() if rule.rule.startswith(prefixes)}
    assert len(paths) >= 20

    answers, expected = {}, {}
    routing = app.url_map.bind("localhost")
    for path in paths:
        # Every rule the path matches: /admin/users/<id>/delete is asked (GET) and done (POST) by two.
        methods = set(routing.allowed_methods(path)) - {"HEAD"}
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
