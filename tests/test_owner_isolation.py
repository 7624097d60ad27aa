"""Another user's photo answers 404 everywhere: API, pages, partials and image URLs."""

import pytest

from tests.support.factories import image_bytes, upload, wait_until_terminal
from tests.support.pages import login


@pytest.fixture
def photo(app, client, user, worker) -> dict:
    session_id = upload(client, user.headers, image_bytes()).get_json()["session_id"]
    wait_until_terminal(app, session_id)
    return client.get(f"/api/photos/{session_id}", headers=user.headers).get_json()


def test_the_api_answers_404_for_someone_elses_photo(client, photo, other_user):
    response = client.get(f"/api/photos/{photo['session_id']}", headers=other_user.headers)

    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_pages_and_partials_answer_404_for_someone_elses_photo(app, photo, other_user):
    client = app.test_client()
    login(client, other_user.email, other_user.password)

    for path in (f"/photos/{photo['session_id']}", f"/photos/{photo['session_id']}/card"):
        assert client.get(path).status_code == 404
        assert client.get(path, headers={"HX-Request": "true"}).status_code == 404
    assert photo["session_id"] not in client.get("/photos").get_data(as_text=True)


def test_the_owner_sees_the_photo_on_every_page(client, photo, user):
    login(client, user.email, user.password)

    for path in (f"/photos/{photo['session_id']}", f"/photos/{photo['session_id']}/card", "/photos"):
        response = client.get(path)
        assert response.status_code == 200
        assert photo["session_id"] in response.get_data(as_text=True)


def test_an_admin_sees_everyones_photos(app, client, photo):
    from tests.support.factories import make_user

    admin = make_user(app, "admin@example.com", admin=True)

    assert client.get(f"/api/photos/{photo['session_id']}", headers=admin.headers).status_code == 200


def test_malformed_ids_are_404_not_500(client, user):
    assert client.get("/api/photos/not-a-uuid", headers=user.headers).status_code == 404
