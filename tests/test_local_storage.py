"""The embedded mode's local-disk storage: same key layout, signed short-lived links that need no login."""

import uuid

import pytest

from tests.support.factories import image_bytes, upload
from webapp import create_app
from webapp.services.photos.processing import process_session


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


def test_anyone_holding_a_link_loads_that_image_with_no_login(local_app, photo):
    stranger = local_app.test_client()  # no session cookie, no token: the link is the permission

    for image in photo["images"]:
        response = stranger.get(image["url"])
        assert response.status_code == 200
        assert response.mimetype == image["content_type"]
        assert len(response.data) == image["bytes"]
        cache = response.cache_control
        assert cache.private and not cache.public
        assert 0 < cache.max_age <= local_app.config["IMAGE_URL_EXPIRES"]


def test_forged_and_expired_links_are_403_never_a_login_page(local_app, photo, user, monkeypatch):
    stranger = local_app.test_client()
    original, thumbnail = photo["images"][0], photo["images"][1]

    forged = thumbnail["url"].split("?")[0] + "?" + original["url"].split("?")[1]
    unsigned = thumbnail["url"].split("?")[0]
    monkeypatch.setitem(local_app.config, "IMAGE_URL_EXPIRES", -1)
    api = local_app.test_client()
    expired = api.get(f"/api/photos/{photo['session_id']}", headers=user.headers).get_json()["images"][1]

    for url in (forged, unsigned, expired["url"]):
        response = stranger.get(url)
        assert response.status_code == 403
        assert "login" not in response.headers.get("Location", "")


def test_a_link_to_a_deleted_photo_is_404(local_app, photo, user):
    url = photo["images"][0]["url"]
    deleted = local_app.test_client().delete(f"/api/photos/{photo['session_id']}", headers=user.headers)

    assert deleted.status_code == 204
    assert local_app.test_client().get(url).status_code == 404
