"""Rate limits: failed logins per account and address, failed tokens per address, uploaded files and
bytes per user.

Counters live in the suite's Redis, so two app processes (here: two app objects) share them.
"""

import io
import random

import requests
from PIL import Image

from tests.support.factories import encoded, image_bytes, make_user, upload
from tests.support.pages import _csrf_token, signed_in
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


def _add_files(client, headers, job_id: str, count: int, data: bytes | None = None):
    files = [(io.BytesIO(data or image_bytes()), f"{n}.jpg") for n in range(count)]
    return client.post(
        f"/api/bulk-nsfw/jobs/{job_id}/files",
        headers=headers,
        data={"files": files},
        content_type="multipart/form-data",
    )


def _open_job(client, headers) -> str:
    return client.post("/api/bulk-nsfw/jobs", headers=headers, json={}).get_json()["job_id"]


def test_every_file_of_a_batch_request_counts(app, client, user, parked, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOADS_PER_USER", "5/minute")
    job_id = _open_job(client, user.headers)

    first = _add_files(client, user.headers, job_id, 3)
    second = _add_files(client, user.headers, job_id, 3)
    fits = _add_files(client, user.headers, job_id, 2)
    single = upload(client, user.headers, image_bytes())

    assert first.status_code == 200 and len(first.get_json()["images"]) == 3
    assert second.status_code == 429  # 3 + 3 files is over 5, though it is only the second request
    assert second.get_json()["error"]["code"] == "rate_limited"
    assert "5 files per minute" in second.get_json()["error"]["message"]
    assert 0 < int(second.headers["Retry-After"]) <= 60
    assert fits.status_code == 200  # the refused request took nothing of the allowance
    assert single.status_code == 429
    assert client.get(f"/api/bulk-nsfw/{job_id}/status", headers=user.headers).get_json()["total"] == 5


def test_refused_files_count_too(app, client, user, parked, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOADS_PER_USER", "3/minute")
    job_id = _open_job(client, user.headers)

    garbage = _add_files(client, user.headers, job_id, 3, data=b"not an image")

    assert len(garbage.get_json()["rejected"]) == 3
    assert upload(client, user.headers, image_bytes()).status_code == 429


def test_uploaded_bytes_count_on_every_upload_endpoint(app, client, user, parked, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MEGABYTES_PER_USER", "5/minute")
    noise = Image.frombytes("RGB", (1000, 1100), random.Random(7).randbytes(1000 * 1100 * 3))
    large = encoded(noise, "PNG")  # noise does not compress: 3.3 MB, counted as 4 MB
    assert 3_000_000 < len(large) < 4_000_000

    stored = upload(client, user.headers, large)
    refused = [
        upload(client, user.headers, large),
        _add_files(client, user.headers, _open_job(client, user.headers), 1, data=large),
        client.post(
            "/api/bulk-nsfw/upload",
            headers=user.headers,
            data={"files": [(io.BytesIO(large), "a.png")]},
            content_type="multipart/form-data",
        ),
    ]

    assert stored.status_code == 202
    assert [response.status_code for response in refused] == [429, 429, 429]
    assert "5 MB per minute" in refused[0].get_json()["error"]["message"]
    assert upload(client, user.headers, image_bytes()).status_code == 202  # a small photo still fits


def test_the_upload_page_and_the_api_draw_on_one_allowance(app, client, user, parked, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOADS_PER_USER", "3/minute")
    browser = signed_in(app.test_client(), user)
    _add_files(client, user.headers, _open_job(client, user.headers), 2)

    def from_the_page():
        return browser.post(
            "/upload",
            headers=browser.csrf_headers,
            data={"file": (io.BytesIO(image_bytes()), "beach.jpg")},
            content_type="multipart/form-data",
        )

    assert from_the_page().status_code == 202
    refused = from_the_page()
    assert refused.status_code == 429
    assert "Upload limit reached" in refused.get_data(as_text=True)


def test_a_request_larger_than_the_whole_allowance_is_told_so_not_to_wait(app, client, user, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOADS_PER_USER", "4/minute")

    response = _add_files(client, user.headers, _open_job(client, user.headers), 5)

    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "over_upload_limit"
    assert "smaller requests" in response.get_json()["error"]["message"]
    assert "Retry-After" not in response.headers


def test_one_bulk_request_cannot_carry_more_files_than_the_limit_through_the_server(live_server, user):
    files = [("files", (f"{n}.jpg", b"x", "image/jpeg")) for n in range(1201)]

    response = requests.post(
        f"{live_server}/api/bulk-nsfw/upload", headers=user.headers, files=files, timeout=60
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "over_upload_limit"
    jobs = requests.get(f"{live_server}/api/bulk-nsfw/jobs", headers=user.headers, timeout=10).json()
    assert jobs["jobs"] == []  # refused before anything was made
