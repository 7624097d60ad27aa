"""Another user's photo answers 404 everywhere: API, pages, partials and image URLs; and uploading
the same bytes as someone else tells nothing of their photo or its verdict."""

import io
import uuid

import pytest
import requests
from botocore.stub import ANY, Stubber

from tests.support.factories import encoded, image_bytes, scene, upload, wait_until_terminal
from tests.support.pages import login, signed_in
from webapp.models import Role
from webapp.services.photos import processing


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

    admin = make_user(app, "admin@example.com", role=Role.ADMIN)

    assert client.get(f"/api/photos/{photo['session_id']}", headers=admin.headers).status_code == 200


def test_a_moderator_reads_anyones_photo_but_lists_and_deletes_only_their_own(app, client, photo, user):
    from tests.support.factories import make_user

    moderator = make_user(app, "moderator@example.com", role=Role.MODERATOR)
    session_id = photo["session_id"]

    described = client.get(f"/api/photos/{session_id}", headers=moderator.headers)
    assert described.status_code == 200
    assert requests.get(described.get_json()["images"][0]["url"], timeout=10).status_code == 200
    browser = signed_in(app.test_client(), moderator)
    for path in (f"/photos/{session_id}", f"/photos/{session_id}/card"):
        assert browser.get(path).status_code == 200, path
    assert "Delete photo" not in browser.get(f"/photos/{session_id}").get_data(as_text=True)
    assert session_id not in browser.get("/photos").get_data(as_text=True)
    assert client.get("/api/photos", headers=moderator.headers).get_json()["photos"] == []

    refused = client.delete(f"/api/photos/{session_id}", headers=moderator.headers)

    assert (refused.status_code, refused.get_json()["error"]["code"]) == (403, "forbidden")
    assert client.get(f"/api/photos/{session_id}", headers=user.headers).status_code == 200
    assert "Delete photo" in signed_in(app.test_client(), user).get(f"/photos/{session_id}").get_data(
        as_text=True
    )


def test_malformed_ids_are_404_not_500(client, user):
    assert client.get("/api/photos/not-a-uuid", headers=user.headers).status_code == 404


EXPLICIT = [{"Name": "Explicit", "ParentName": "", "Confidence": 93.1, "TaxonomyLevel": 1}]  # rejected
SUGGESTIVE = [{"Name": "Explicit", "ParentName": "", "Confidence": 62.0, "TaxonomyLevel": 1}]  # flagged


def answers(stubber: Stubber, labels: list[dict]) -> None:
    stubber.add_response(
        "detect_moderation_labels",
        {"ModerationLabels": labels, "ModerationModelVersion": "7.0"},
        {"Image": ANY, "MinConfidence": ANY},
    )


def processed(app, client, person, data: bytes) -> dict:
    """Upload a photo for Rekognition and run its job here; the photo as the API shows its owner."""
    answer = client.post(
        "/api/photos/upload",
        headers=person.headers,
        data={"file": (io.BytesIO(data), "photo.jpg"), "provider": "rekognition"},
        content_type="multipart/form-data",
    )
    session_id = answer.get_json()["session_id"]
    with app.app_context():
        processing.process_session(uuid.UUID(session_id))
    return photo_json(client, person, session_id)


def photo_json(client, person, session_id: str) -> dict:
    return client.get(f"/api/photos/{session_id}", headers=person.headers).get_json()


def test_a_copy_of_someone_elses_photo_is_moderated_afresh_and_shows_nothing_of_theirs(
    app, client, user, other_user, admin, parked, rekognition
):
    machine_judged, person_judged = (encoded(scene(seed), "JPEG", quality=85) for seed in (201, 202))
    answers(rekognition, EXPLICIT)
    by_machine = processed(app, client, user, machine_judged)
    answers(rekognition, SUGGESTIVE)
    by_person = processed(app, client, user, person_judged)
    decided = client.post(
        f"/api/virtual-images/{by_person['moderation']['virtual_image_id']}/review",
        headers=admin.headers,
        json={"verdict": "approved", "note": "holiday photo", "message": "Looks fine."},
    )
    assert decided.status_code == 200
    theirs = [by_machine, by_person]

    # The other user sends the same bytes in a job; Rekognition is asked about each, as for any new photo.
    answers(rekognition, [])
    answers(rekognition, EXPLICIT)
    job = client.post(
        "/api/bulk-nsfw/upload",
        headers=other_user.headers,
        data={
            "files": [(io.BytesIO(machine_judged), "a.jpg"), (io.BytesIO(person_judged), "b.jpg")],
            "provider": "rekognition",
        },
        content_type="multipart/form-data",
    ).get_json()
    with app.app_context():
        for image in job["images"]:
            processing.process_session(uuid.UUID(image["session_id"]))

    copies = [photo_json(client, other_user, image["session_id"]) for image in job["images"]]
    assert [(c["moderation"]["status"], c["moderation"]["source"]) for c in copies] == [
        ("approved", "rekognition"),
        ("rejected", "rekognition"),
    ]
    assert all(c["moderation"]["duplicate_of"] is None and not c["moderation"]["reviews"] for c in copies)
    status = client.get(f"/api/bulk-nsfw/{job['job_id']}/status", headers=other_user.headers).get_json()
    assert [image["moderation_status"] for image in status["images"]] == ["approved", "rejected"]
    listing = client.get("/api/photos?verdict=approved", headers=other_user.headers).get_json()
    assert listing["total"] == 1
    browser = signed_in(app.test_client(), other_user)
    answers_seen = [
        *(client.get(f"/api/photos/{c['session_id']}", headers=other_user.headers) for c in copies),
        client.get("/api/photos", headers=other_user.headers),
        client.get(f"/api/bulk-nsfw/{job['job_id']}/status", headers=other_user.headers),
        *(browser.get(f"/photos/{c['session_id']}") for c in copies),
        browser.get("/photos"),
        browser.get(f"/jobs/{job['job_id']}"),
    ]
    for answer in answers_seen:
        text = answer.get_data(as_text=True)
        assert answer.status_code == 200
        assert "Identical to an earlier upload" not in text and "data-decided-by" not in text
        assert "Looks fine." not in text and "holiday photo" not in text
        for photo in theirs:
            assert photo["session_id"] not in text
            assert photo["moderation"]["virtual_image_id"] not in text


def test_the_same_bytes_from_the_same_owner_still_reuse_their_verdict(app, client, user, parked, rekognition):
    data = encoded(scene(203), "JPEG", quality=85)
    answers(rekognition, EXPLICIT)
    first = processed(app, client, user, data)

    again = processed(app, client, user, data)

    assert (again["moderation"]["status"], again["moderation"]["source"]) == ("rejected", "duplicate_of")
    assert again["moderation"]["duplicate_of"] == first["moderation"]["virtual_image_id"]
    page = signed_in(app.test_client(), user).get(f"/photos/{again['session_id']}").get_data(as_text=True)
    assert "Identical to an earlier upload" in page
    assert f'href="/photos/{first["session_id"]}" data-earlier' in page
