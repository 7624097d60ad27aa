"""Every parameter and JSON field is checked for type and range: a clear 400/422 naming it, never a 500."""

import io

import pytest

from tests.support.factories import image_bytes, make_user
from webapp.models import Role

HUGE = str(10**18)


@pytest.fixture
def job_id(client, user) -> str:
    return client.post("/api/bulk-nsfw/jobs", headers=user.headers, json={}).get_json()["job_id"]


@pytest.mark.parametrize(
    "path",
    [
        f"/api/photos?page={HUGE}",
        f"/api/photos?per_page={HUGE}",
        "/api/photos?page=-1",
        "/api/photos?page=" + "9" * 5000,
        "/api/photos?page=two",
        "/api/bulk-nsfw/{job}/status?page=" + HUGE,
    ],
)
def test_paging_out_of_range_is_a_400_naming_the_parameter(client, user, job_id, path):
    response = client.get(path.format(job=job_id), headers=user.headers)

    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_parameter"
    assert "'page'" in error["message"] or "'per_page'" in error["message"]


def test_paged_pages_refuse_huge_numbers_with_a_page_not_a_500(client, user, job_id):
    for path in (f"/photos?page={HUGE}", f"/jobs/{job_id}?page={HUGE}"):
        response = client.get(path, headers=user.headers)
        assert response.status_code == 400
        assert "page" in response.get_data(as_text=True)


def test_an_upload_order_beyond_its_column_is_a_400(client, user, job_id):
    response = client.post(
        f"/api/bulk-nsfw/jobs/{job_id}/files",
        headers=user.headers,
        data={"files": [(io.BytesIO(image_bytes()), "a.jpg")], "upload_order": [str(2**63)]},
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_upload_order"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code", "field"),
    [
        ("post", "/api/bulk-nsfw/jobs", {"callback_url": 5}, 422, "invalid_field", "callback_url"),
        ("post", "/api/bulk-nsfw/jobs", {"provider": ["local"]}, 422, "invalid_field", "provider"),
        ("post", "/api/bulk-nsfw/jobs", ["not", "an", "object"], 400, "malformed_body", None),
        ("put", "/api/account", {"default_callback_url": 5}, 422, "invalid_field", "default_callback_url"),
        ("put", "/api/account", "a string", 400, "malformed_body", None),
        (
            "post",
            "/api/virtual-images/{image}/review",
            {"verdict": ["approved"]},
            422,
            "invalid_field",
            "verdict",
        ),
        (
            "post",
            "/api/virtual-images/{image}/review",
            {"verdict": "approved", "note": 5},
            422,
            "invalid_field",
            "note",
        ),
        ("post", "/api/virtual-images/{image}/review", [1, 2], 400, "malformed_body", None),
    ],
)
def test_json_of_the_wrong_type_is_refused_naming_the_field(
    app, client, method, path, body, status, code, field
):
    admin = make_user(app, "validator@example.com", role=Role.ADMIN)

    response = getattr(client, method)(
        path.format(image="6b0c2a3e-9d5e-4c35-9f63-0f3e2b1f4a10"), headers=admin.headers, json=body
    )

    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] == code
    if field:
        assert f"'{field}'" in error["message"]
