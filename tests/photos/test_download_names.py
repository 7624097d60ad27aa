"""An original downloads under the name it was uploaded with, from local links and S3 presigned URLs
alike; the name in the header is made safe (RFC 6266: an ASCII fallback and the UTF-8 name)."""

import uuid

import pytest
import requests
from werkzeug.http import parse_options_header

from tests.support.factories import image_bytes, upload
from webapp import create_app
from webapp.services.photos.processing import process_session
from webapp.storage.disposition import content_disposition

UPLOADED = "Été à Paris 100%.jpg"
HEADER = (
    "inline; filename=\"Ete a Paris 100_.jpg\"; filename*=UTF-8''%C3%89t%C3%A9%20%C3%A0%20Paris%20100%25.jpg"
)


@pytest.mark.parametrize(
    ("uploaded", "plain", "exact"),
    [
        ("IMG_0001.JPG", "IMG_0001.JPG", "IMG_0001.JPG"),
        ('a"b\\c/d.jpg', "abcd.jpg", "abcd.jpg"),
        ("line\r\nbreak\x00.jpg", "linebreak.jpg", "linebreak.jpg"),
        ("photo\u202egpj.exe", "photogpj.exe", "photogpj.exe"),
        ("写真.heic", "__.heic", "写真.heic"),
        ('"/\\', "photo", "photo"),
    ],
)
def test_the_header_names_the_file_safely_for_every_client(uploaded, plain, exact):
    header = content_disposition(uploaded)

    assert header.isascii() and not any(char in header for char in "\r\n\x00")
    assert header.startswith(f"inline; filename=\"{plain}\"; filename*=UTF-8''")
    assert parse_options_header(header) == ("inline", {"filename": exact})


def test_a_download_can_be_an_attachment():
    assert (
        content_disposition("a.jpg", "attachment") == "attachment; filename=\"a.jpg\"; filename*=UTF-8''a.jpg"
    )


def stored_photo(app, user) -> dict:
    client = app.test_client()
    session_id = upload(client, user.headers, image_bytes(), filename=UPLOADED).get_json()["session_id"]
    with app.app_context():
        process_session(uuid.UUID(session_id))
    images = client.get(f"/api/photos/{session_id}", headers=user.headers).get_json()["images"]
    return {image["kind"]: image["url"] for image in images}


@pytest.fixture
def local_app(app, tmp_path, monkeypatch):
    local = create_app({"TESTING": True, "S3_BUCKET": "", "STORAGE_DIR": str(tmp_path)})
    monkeypatch.setitem(local.config, "QUEUE_NAME", "nobody-listens-here")
    return local


def test_a_local_link_to_the_original_answers_its_uploaded_name(local_app, user):
    urls = stored_photo(local_app, user)
    stranger = local_app.test_client()

    original = stranger.get(urls["original"])

    assert original.status_code == 200
    assert original.headers["Content-Disposition"] == HEADER
    thumbnail = stranger.get(urls["thumbnail_original"])
    assert "Paris" not in thumbnail.headers["Content-Disposition"]  # the service's file, by its own name


def test_an_s3_presigned_link_to_the_original_answers_its_uploaded_name(app, user, parked):
    urls = stored_photo(app, user)
    assert urls["original"].startswith("http://127.0.0.1:")  # moto's server, over HTTP

    original = requests.get(urls["original"], timeout=10)

    assert original.status_code == 200
    assert original.headers["Content-Disposition"] == HEADER
    assert "Content-Disposition" not in requests.get(urls["processed"], timeout=10).headers
