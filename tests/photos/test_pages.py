"""The pages' server side: upload answers with live cards, cards stop polling, the gallery."""

import io
import re

import pytest

from tests.support.factories import image_bytes, wait_until_terminal
from tests.support.pages import _csrf_token, login


@pytest.fixture
def browser(client, user):
    """A logged-in browser session, and the CSRF token its pages carry."""
    login(client, user.email, user.password)
    page = client.get("/upload").get_data(as_text=True)
    client.csrf_headers = {"X-CSRFToken": re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)}
    return client


def post_file(browser, data: bytes, filename: str):
    return browser.post(
        "/upload",
        headers=browser.csrf_headers,
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def card_session_id(html: str) -> str:
    return re.search(r'data-session-id="([^"]+)"', html).group(1)


def test_uploading_from_the_page_answers_with_a_card_that_polls(browser, monkeypatch, app):
    monkeypatch.setitem(app.config, "QUEUE_NAME", "nobody-listens-here")
    response = post_file(browser, image_bytes(), "beach.jpg")

    assert response.status_code == 202
    html = response.get_data(as_text=True)
    assert "beach.jpg" in html
    assert 'hx-trigger="every 1s"' in html
    assert 'data-status="pending"' in html


def test_a_finished_photos_card_stops_polling_and_shows_its_thumbnail(app, browser, worker):
    session_id = card_session_id(post_file(browser, image_bytes(), "beach.jpg").get_data(as_text=True))
    wait_until_terminal(app, session_id)

    html = browser.get(f"/photos/{session_id}/card").get_data(as_text=True)

    assert 'data-status="completed"' in html
    assert "hx-trigger" not in html
    assert "thumbnail_original.jpg" in html


def test_a_refused_file_gets_a_card_saying_why(browser):
    response = post_file(browser, b"not an image at all", "notes.jpg")

    assert response.status_code == 415
    html = response.get_data(as_text=True)
    assert 'data-status="refused"' in html
    assert "notes.jpg" in html
    assert "hx-trigger" not in html


def test_filenames_are_escaped_on_every_page(app, browser, worker):
    name = "<img src=x onerror=alert(1)>.jpg"
    session_id = card_session_id(post_file(browser, image_bytes(), name).get_data(as_text=True))
    wait_until_terminal(app, session_id)

    for path in (f"/photos/{session_id}", f"/photos/{session_id}/card", "/photos"):
        html = browser.get(path).get_data(as_text=True)
        assert "<img src=x onerror" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;.jpg" in html


def test_the_gallery_shows_original_and_processed_side_by_side_with_both_thumbnails(app, browser, worker):
    session_id = card_session_id(post_file(browser, image_bytes("PNG"), "a.png").get_data(as_text=True))
    wait_until_terminal(app, session_id)

    page = browser.get(f"/photos/{session_id}")
    html = page.get_data(as_text=True)

    assert "HX-Request" in page.headers["Vary"]
    assert "<html" in html
    for kind in ("original", "processed", "thumbnail_original", "thumbnail_processed"):
        assert f'data-kind="{kind}"' in html
    assert f"{session_id}/processed.avif" in html
    fragment = browser.get(f"/photos/{session_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment
    assert 'id="gallery"' in fragment
    assert "hx-trigger" not in fragment


def test_a_failed_photo_shows_its_reason_and_stops_polling(app, browser, s3, service_env, monkeypatch):
    from webapp.services.photos.processing import fail_session

    monkeypatch.setitem(app.config, "QUEUE_NAME", "nobody-listens-here")
    session_id = card_session_id(post_file(browser, image_bytes(), "x.jpg").get_data(as_text=True))
    with app.app_context():
        fail_session(session_id, "The photo could not be decoded: broken data stream")

    for path in (f"/photos/{session_id}/card", f"/photos/{session_id}"):
        html = browser.get(path, headers={"HX-Request": "true"}).get_data(as_text=True)
        assert "hx-trigger" not in html
        assert "The photo could not be decoded: broken data stream" in html


def test_my_photos_lists_newest_first(app, browser, monkeypatch):
    monkeypatch.setitem(app.config, "QUEUE_NAME", "nobody-listens-here")
    first = card_session_id(post_file(browser, image_bytes(), "first.jpg").get_data(as_text=True))
    second = card_session_id(post_file(browser, image_bytes(), "second.jpg").get_data(as_text=True))

    html = browser.get("/photos").get_data(as_text=True)

    assert html.index(second) < html.index(first)


def test_login_form_needs_its_csrf_token(client, user):
    response = client.post("/login", data={"email": user.email, "password": user.password})

    assert response.status_code == 400
    assert _csrf_token(client.get("/login").get_data(as_text=True))
