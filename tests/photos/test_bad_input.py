"""Refused uploads: a clear /docs/api error, decided by content, and nothing stored or recorded."""

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.support.factories import image_bytes, upload
from webapp.extensions import db
from webapp.models import PhotoSession


def _bomb() -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(buffer, "PNG")  # ~12 KB on disk, 100 megapixels decoded
    return buffer.getvalue()


REFUSED = [
    pytest.param(b"", 422, "empty_file", id="zero-byte"),
    pytest.param(b"just some text, named like a photo", 415, "unsupported_image", id="text"),
    pytest.param(
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        415,
        "unsupported_image",
        id="svg",
    ),
    pytest.param(b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", 415, "unsupported_image", id="pdf"),
    pytest.param(image_bytes("JPEG", (800, 600))[:1500], 422, "corrupt_image", id="truncated-jpeg"),
    pytest.param(_bomb(), 422, "too_many_pixels", id="decompression-bomb"),
]


def _nothing_stored(app, bucket_keys) -> bool:
    with app.app_context():
        sessions = db.session.scalar(select(func.count()).select_from(PhotoSession))
    return sessions == 0 and bucket_keys() == []


@pytest.mark.parametrize(("data", "status", "code"), REFUSED)
def test_a_refused_file_gets_a_clear_error_and_leaves_nothing(
    app, client, user, bucket_keys, data, status, code
):
    response = upload(client, user.headers, data, "photo.jpg")

    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert _nothing_stored(app, bucket_keys)


def test_a_file_over_the_size_limit_is_refused_with_413(app, client, user, bucket_keys, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_FILE_BYTES", 10_000)
    response = upload(client, user.headers, image_bytes("PNG", (400, 400), compress_level=0))

    assert response.status_code == 413
    assert response.get_json()["error"]["code"] in {"file_too_large", "request_entity_too_large"}
    assert _nothing_stored(app, bucket_keys)


def test_the_extension_and_declared_type_do_not_matter(app, client, user, monkeypatch):
    monkeypatch.setitem(app.config, "QUEUE_NAME", "nobody-listens-here")
    response = client.post(
        "/api/photos/upload",
        headers=user.headers,
        data={"file": (io.BytesIO(image_bytes("PNG")), "holiday.gif", "image/gif")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 202
    photo = client.get(f"/api/photos/{response.get_json()['session_id']}", headers=user.headers).get_json()
    assert photo["images"][0]["key"].endswith("/original.png")
    assert photo["images"][0]["content_type"] == "image/png"


def test_a_request_without_a_file_is_a_400(client, user):
    response = client.post(
        "/api/photos/upload", headers=user.headers, data={}, content_type="multipart/form-data"
    )

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "missing_file"


def test_the_api_needs_a_valid_token(client):
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = upload(client, headers, image_bytes())
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "not_authenticated"
