"""The embedded mode's local-disk storage: same key layout, signed short-lived URLs that check the owner."""

import uuid

import pytest

from tests.factories import image_bytes, upload
from tests.test_users_and_login import login
from webapp import create_app
from webapp.services.processing import process_session


@pytest.fixture
def local_app(app, tmp_path, monkeypatch):
    local = create_app({"TESTING": True, "S3_BUCKET": "", "STORAGE_DIR": str(tmp_path)})
    monkeypatch.setitem(local.config, "QUEUE_NAME", "nobody-listens-here")
    return local


@pytest.fixture
def photo(local_app, user) -> dict:
    client = local_app.test_client()
    session_id = upload(client, user.headers, image_bytes("JPEG", (1000, 800))).get_json()["session_id"]
    with local_app.app_context():
        process_session(uuid.UUID(session_id))
    return client.get(f"/api/photos/{session_id}", headers=user.headers).get_json()


def test_objects_live_on_disk_under_the_photos_folder(photo, tmp_path):
    session_id = photo["session_id"]
    assert photo["status"] == "completed"
    stored = sorted(path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*") if path.is_file())
    assert stored == sorted(image["key"] for image in photo["images"])
    assert all(key.startswith(f"{session_id}/") for key in stored)


def test_the_owner_loads_every_image_through_its_signed_url(local_app, photo, user):
    browser = local_app.test_client()
    login(browser, user.email, user.password)

    for image in photo["images"]:
        response = browser.get(image["url"])
        assert response.status_code == 200
        assert response.mimetype == image["content_type"]
        assert len(response.data) == image["bytes"]


def test_another_user_gets_404_even_with_a_valid_link(local_app, photo, other_user):
    browser = local_app.test_client()
    login(browser, other_user.email, other_user.password)

    assert all(browser.get(image["url"]).status_code == 404 for image in photo["images"])


def test_tampered_and_expired_links_are_404(local_app, photo, user, monkeypatch):
    browser = local_app.test_client()
    login(browser, user.email, user.password)
    original, thumbnail = photo["images"][0], photo["images"][1]

    forged = thumbnail["url"].split("?")[0] + "?" + original["url"].split("?")[1]
    assert browser.get(forged).status_code == 404
    monkeypatch.setitem(local_app.config, "IMAGE_URL_EXPIRES", -1)
    expired = browser.get(f"/api/photos/{photo['session_id']}", headers=user.headers).get_json()["images"][0]
    assert browser.get(expired["url"]).status_code == 404
