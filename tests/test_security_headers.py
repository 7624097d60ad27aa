"""Security headers on pages, API answers and images: one strict CSP, no framing, HSTS only over HTTPS."""

import uuid
from urllib.parse import urlsplit

import pytest

from tests.support.factories import image_bytes, upload
from webapp import create_app
from webapp.services.photos.processing import process_session

STRICT = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def policy(response) -> dict[str, list[str]]:
    """The response's Content-Security-Policy as {directive: sources}."""
    directives = [part.split() for part in response.headers["Content-Security-Policy"].split(";")]
    return {name: sources for name, *sources in directives}


def assert_secured(response) -> None:
    assert policy(response).items() >= STRICT.items()
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.fixture
def local_app(app, tmp_path, monkeypatch):
    local = create_app({"TESTING": True, "S3_BUCKET": "", "STORAGE_DIR": str(tmp_path)})
    monkeypatch.setitem(local.config, "QUEUE_NAME", "nobody-listens-here")
    return local


def test_pages_and_api_answers_carry_the_policy_and_images_may_come_from_s3(client, user):
    answer = upload(client, user.headers, image_bytes())
    photo = client.get(f"/api/photos/{answer.get_json()['session_id']}", headers=user.headers)

    for response in (client.get("/login"), client.get("/no-such-page"), answer, photo):
        assert_secured(response)
    assert photo.is_json and photo.status_code == 200
    # The origin of a real presigned link, not only the one presigned at startup.
    link = urlsplit(photo.get_json()["images"][0]["url"])
    assert policy(photo)["img-src"] == ["'self'", f"{link.scheme}://{link.netloc}"]
    assert "Strict-Transport-Security" not in photo.headers


def test_pages_may_send_files_to_the_bucket_when_clients_upload_straight_to_it(client, user):
    file = {"filename": "a.jpg", "size": 10, "content_type": "image/jpeg", "sha256": "0" * 64}
    issued = client.post("/api/uploads", headers=user.headers, json={"files": [file]})

    # The origin of a real presigned POST, and nowhere else.
    target = urlsplit(issued.get_json()["uploads"][0]["url"])
    assert policy(issued)["connect-src"] == ["'self'", f"{target.scheme}://{target.netloc}"]


def test_images_on_local_disk_carry_the_policy_and_come_from_this_origin_only(local_app, user):
    client = local_app.test_client()
    session_id = upload(client, user.headers, image_bytes()).get_json()["session_id"]
    with local_app.app_context():
        process_session(uuid.UUID(session_id))
    photo = client.get(f"/api/photos/{session_id}", headers=user.headers).get_json()

    image = client.get(photo["images"][0]["url"])

    assert image.status_code == 200 and image.mimetype.startswith("image/")
    assert_secured(image)
    assert policy(image)["img-src"] == ["'self'"]
    assert policy(image)["connect-src"] == ["'self'"]


def test_hsts_only_when_cookies_are_secure(app, client):
    secure = create_app({"TESTING": True, "SESSION_COOKIE_SECURE": True}).test_client()

    assert "Strict-Transport-Security" not in client.get("/login").headers
    response = secure.get("/login")
    assert_secured(response)
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_a_view_may_set_its_own_header(app):
    own = create_app({"TESTING": True})
    own.add_url_rule("/framed", view_func=lambda: ("", 200, {"X-Frame-Options": "SAMEORIGIN"}))

    response = own.test_client().get("/framed")

    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert policy(response).items() >= STRICT.items()
