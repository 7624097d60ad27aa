"""API tokens over the API and the command line: named, listed, made (the secret once) and deleted,
each person their own."""

import re

from tests.support.pages import signed_in


def make_token(client, headers: dict, name: str):
    return client.post("/api/tokens", headers=headers, json={"name": name})


def test_a_token_made_over_the_api_works_and_its_secret_is_shown_that_once(client, user):
    made = make_token(client, user.headers, "  nightly import  ")

    assert made.status_code == 201
    assert made.headers["Cache-Control"] == "no-store"
    body = made.get_json()
    assert body["name"] == "nightly import" and body["last_used_at"] is None and body["created_at"]
    assert client.get("/api/photos", headers={"Authorization": f"Bearer {body['token']}"}).status_code == 200

    listed = client.get("/api/tokens", headers=user.headers)
    assert listed.status_code == 200
    tokens = listed.get_json()["tokens"]
    assert [token["name"] for token in tokens] == ["made on the command line", "nightly import"]
    assert tokens[1]["id"] == body["id"] and tokens[1]["last_used_at"] is not None
    assert body["token"] not in listed.get_data(as_text=True)
    assert all("token" not in token for token in tokens)


def test_a_token_needs_a_name_on_one_line(client, user):
    for body in ({}, {"name": "   "}, {"name": "a" * 101}, {"name": "two\nlines"}, {"name": "nul\x00"}):
        refused = client.post("/api/tokens", headers=user.headers, json=body)
        assert refused.status_code == 422, body
        assert refused.get_json()["error"]["code"] == "invalid_field"

    assert len(client.get("/api/tokens", headers=user.headers).get_json()["tokens"]) == 1


def test_an_account_holds_at_most_a_hundred_tokens(client, user):
    for number in range(99):
        assert make_token(client, user.headers, f"script {number}").status_code == 201

    refused = make_token(client, user.headers, "one too many")

    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "too_many_tokens"


def test_a_deleted_token_is_refused_at_once_and_the_others_keep_working(client, user):
    spare = make_token(client, user.headers, "spare").get_json()

    deleted = client.delete(f"/api/tokens/{spare['id']}", headers=user.headers)

    assert deleted.status_code == 204
    refused = client.get("/api/photos", headers={"Authorization": f"Bearer {spare['token']}"})
    assert refused.status_code == 401
    assert client.get("/api/photos", headers=user.headers).status_code == 200
    names = [token["name"] for token in client.get("/api/tokens", headers=user.headers).get_json()["tokens"]]
    assert names == ["made on the command line"]


def test_a_token_can_delete_itself(client, user):
    mine = client.get("/api/tokens", headers=user.headers).get_json()["tokens"][0]

    assert client.delete(f"/api/tokens/{mine['id']}", headers=user.headers).status_code == 204

    assert client.get("/api/tokens", headers=user.headers).status_code == 401


def test_another_users_tokens_are_neither_seen_nor_deleted(client, user, other_user):
    theirs = client.get("/api/tokens", headers=other_user.headers).get_json()["tokens"][0]

    assert theirs["id"] not in client.get("/api/tokens", headers=user.headers).get_data(as_text=True)
    for token_id in (theirs["id"], "not-a-token-id"):
        missing = client.delete(f"/api/tokens/{token_id}", headers=user.headers)
        assert missing.status_code == 404
        assert missing.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/tokens", headers=other_user.headers).status_code == 200


def test_the_account_page_makes_a_token_shows_it_once_and_lists_it(app, user):
    browser = signed_in(app.test_client(), user)
    page = browser.get("/account").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    made = browser.post("/account/tokens", data={"name": "laptop <script>", "csrf_token": csrf})

    assert made.status_code == 201
    assert made.headers["Cache-Control"] == "no-store"
    secret = re.search(r'id="new-token">(pgt_[\w-]+)<', made.get_data(as_text=True)).group(1)
    assert "laptop &lt;script&gt;" in made.get_data(as_text=True)
    assert (
        app.test_client().get("/api/photos", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    )
    again = browser.get("/account").get_data(as_text=True)
    assert secret not in again and "laptop &lt;script&gt;" in again
    forged = browser.post("/account/tokens", data={"name": "no csrf"})
    assert forged.status_code == 400
    assert "no csrf" not in browser.get("/account").get_data(as_text=True)


def test_the_command_line_names_its_tokens(app, client, user):
    result = app.test_cli_runner().invoke(args=["users", "token", user.email, "--name", "backup box"])
    token = result.output.strip().splitlines()[-1]

    assert result.exit_code == 0
    assert client.get("/api/photos", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    listing = app.test_cli_runner().invoke(args=["users", "tokens", user.email]).output
    assert "'backup box'" in listing and "'made on the command line'" in listing
