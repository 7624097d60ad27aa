"""Rate limits: failed logins per account and address, failed tokens per address, uploads per user.

Counters live in the suite's Redis, so two app processes (here: two app objects) share them.
"""

import io

from tests.support.factories import image_bytes, make_user, upload
from tests.support.pages import _csrf_token
from webapp import create_app


def _attempt(client, email: str, password: str, address: str = "127.0.0.1"):
    environ = {"REMOTE_ADDR": address}
    page = client.get("/login", environ_base=environ).get_data(as_text=True)
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": _csrf_token(page)},
        environ_base=environ,
    )


def test_failed_logins_per_account_lock_even_the_right_password_out(app, client, user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_ACCOUNT", "3/minute")
    for attempt in range(3):
        assert _attempt(client, user.email, f"wrong {attempt}", f"10.0.0.{attempt}").status_code == 200

    locked = _attempt(client, user.email.upper(), user.password, "10.0.0.9")

    assert locked.status_code == 429
    assert 0 < int(locked.headers["Retry-After"]) <= 60
    assert "Too many attempts" in locked.get_data(as_text=True)
    assert "<html" in locked.get_data(as_text=True).lower()  # a page for people, not JSON


def test_successful_logins_do_not_count(app, client, user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_ACCOUNT", "2/minute")

    for _ in range(4):
        assert _attempt(app.test_client(), user.email, user.password).status_code == 302


def test_failed_logins_per_address_across_accounts(app, client, user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_ADDRESS", "4/minute")
    for n in range(4):
        assert _attempt(client, f"someone{n}@example.com", "guess", "192.0.2.7").status_code == 200

    assert _attempt(client, user.email, user.password, "192.0.2.7").status_code == 429
    assert _attempt(client, user.email, user.password, "192.0.2.8").status_code == 302


def test_failed_token_authentications_per_address_hold_across_processes(app, user, monkeypatch):
    monkeypatch.setitem(app.config, "TOKEN_FAILURES_PER_ADDRESS", "3/minute")
    other_process = create_app({"TESTING": True, "TOKEN_FAILURES_PER_ADDRESS": "3/minute"})
    bad = {"Authorization": "Bearer pgt_guessed"}
    for client in (app.test_client(), app.test_client(), other_process.test_client()):
        assert client.get("/api/photos", headers=bad).status_code == 401

    refused = other_process.test_client().get("/api/photos", headers=user.headers)

    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) > 0
    elsewhere = app.test_client().get(
        "/api/photos", headers=user.headers, environ_base={"REMOTE_ADDR": "10.1.1.1"}
    )
    assert elsewhere.status_code == 200


def test_uploads_per_user(app, client, user, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOADS_PER_USER", "2/minute")
    monkeypatch.setitem(app.config, "QUEUE_NAME", "nobody-listens-here")
    other = make_user(app, "other-uploader@example.com")

    statuses = [upload(client, user.headers, image_bytes()).status_code for _ in range(3)]
    batch = client.post(
        "/api/bulk-nsfw/upload",
        headers=user.headers,
        data={"files": [(io.BytesIO(image_bytes()), "a.jpg")]},
        content_type="multipart/form-data",
    )

    assert statuses == [202, 202, 429]
    assert batch.status_code == 429  # one limit over every upload endpoint
    assert batch.get_json()["error"]["code"] == "rate_limited"
    assert upload(client, other.headers, image_bytes()).status_code == 202
