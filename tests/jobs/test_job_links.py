"""A job is answered where a client looks for it, GET /api/bulk-nsfw/jobs/<id>, and every answer about
a job says where that is."""

import io

from tests.support.factories import image_bytes


def test_a_batch_upload_answers_where_its_job_is_and_that_address_answers_the_job(client, user, parked):
    files = {"files": [(io.BytesIO(image_bytes()), "a.jpg"), (io.BytesIO(b"not an image"), "b.jpg")]}

    uploaded = client.post(
        "/api/bulk-nsfw/upload", headers=user.headers, data=files, content_type="multipart/form-data"
    )

    assert uploaded.status_code == 202
    body = uploaded.get_json()
    assert body["url"] == f"http://localhost/api/bulk-nsfw/jobs/{body['job_id']}"
    job = client.get(body["url"], headers=user.headers)
    assert job.status_code == 200
    described = job.get_json()
    status = client.get(f"/api/bulk-nsfw/{body['job_id']}/status", headers=user.headers).get_json()
    assert described == {name: value for name, value in status.items() if name in described}
    assert described["job_id"] == body["job_id"] and described["url"] == body["url"]
    assert (described["total"], described["status"]) == (body["total"], body["status"])
    assert described["refused"] == 1
    assert "images" not in described


def test_a_job_opened_for_several_requests_is_found_at_its_location(client, user, parked):
    opened = client.post("/api/bulk-nsfw/jobs", headers=user.headers, json={})

    assert opened.status_code == 201
    url = opened.get_json()["url"]
    assert opened.headers["Location"] == url
    assert client.get(url, headers=user.headers).get_json()["status"] == "uploading"
    submitted = client.post(f"{url}/submit", headers=user.headers)
    assert submitted.status_code == 202 and submitted.get_json()["url"] == url
    listed = client.get("/api/bulk-nsfw/jobs", headers=user.headers).get_json()["jobs"]
    assert [job["url"] for job in listed] == [url]


def test_another_users_job_is_not_found_at_its_address(client, user, other_user, parked):
    url = client.post("/api/bulk-nsfw/jobs", headers=user.headers, json={}).get_json()["url"]

    missing = client.get(url, headers=other_user.headers)

    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/bulk-nsfw/jobs/not-a-job", headers=user.headers).status_code == 404
