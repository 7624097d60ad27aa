"""The batch and job pages' server side: live progress that stops, pages of images, the policy."""

import io
import re

import pytest

from tests.support.factories import image_bytes, make_user
from tests.support.jobs import wait_for_job
from tests.support.pages import login
from webapp.models import Role


def _batch(client, user, count: int, name: str = "p{}.jpg") -> str:
    form = {"files": [(io.BytesIO(image_bytes("JPEG", (200, 150))), name.format(n)) for n in range(count)]}
    response = client.post(
        "/api/bulk-nsfw/upload", headers=user.headers, data=form, content_type="multipart/form-data"
    )
    return response.get_json()["job_id"]


def test_a_finished_jobs_page_shows_counters_and_images_and_stops_polling(app, client, user, worker):
    job_id = _batch(client, user, 3, "<b>{}.jpg")
    wait_for_job(client, user.headers, job_id)
    login(client, user.email, user.password)

    page = client.get(f"/jobs/{job_id}")
    fragment = client.get(f"/jobs/{job_id}", headers={"HX-Request": "true"}).get_data(as_text=True)

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-counter="approved"><dt>approved</dt><dd>3</dd>' in html
    assert html.count('data-moderation-status="approved"') == 3
    assert "&lt;b&gt;0.jpg" in html and "<b>0.jpg" not in html
    assert 'hx-trigger="every' not in fragment
    assert "<html" not in fragment


def test_a_running_job_polls_and_keeps_its_page(app, client, user, monkeypatch):
    monkeypatch.setitem(app.config, "QUEUE_NAME", "nobody-listens-here")
    job_id = _batch(client, user, 55)
    login(client, user.email, user.password)

    html = client.get(f"/jobs/{job_id}?page=2").get_data(as_text=True)

    assert 'hx-trigger="every 2s"' in html
    assert f'hx-get="/jobs/{job_id}?page=2"' in html
    assert html.count("data-upload-order=") == 5  # 55 images, 50 a page
    assert "Page 2 of 2" in html


def test_the_jobs_list_polls_only_while_a_job_runs(app, client, user, worker, monkeypatch):
    login(client, user.email, user.password)
    assert "hx-trigger" not in client.get("/jobs").get_data(as_text=True)

    job_id = _batch(client, user, 1)
    listing = client.get("/jobs", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert job_id in listing
    wait_for_job(client, user.headers, job_id)
    assert "hx-trigger" not in client.get("/jobs", headers={"HX-Request": "true"}).get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.ADMIN])
def test_those_who_moderate_see_the_thresholds_in_force(app, client, user, monkeypatch, role):
    monkeypatch.setitem(app.config, "MODERATION_REJECT", "Explicit=85;Violence=90")
    moderator = make_user(app, "moderator@example.com", role=role)
    login(client, moderator.email, moderator.password)
    html = client.get("/jobs").get_data(as_text=True)

    assert "Moderation policy in force" in html
    assert "<td>Violence</td><td>90</td>" in html
    assert "<td>Non-Explicit Nudity of Intimate parts and Kissing</td><td>—</td><td>50</td>" in html
    client.post("/logout", data={"csrf_token": ""})
    other = app.test_client()
    login(other, user.email, user.password)
    assert "Moderation policy in force" not in other.get("/jobs").get_data(as_text=True)


def test_someone_elses_job_page_is_404(app, client, user, other_user, monkeypatch):
    monkeypatch.setitem(app.config, "QUEUE_NAME", "nobody-listens-here")
    job_id = _batch(client, user, 1)
    login(client, other_user.email, other_user.password)

    assert client.get(f"/jobs/{job_id}").status_code == 404
    assert client.get(f"/jobs/{job_id}", headers={"HX-Request": "true"}).status_code == 404


def test_every_single_photo_is_moderated_and_its_gallery_shows_the_verdict(app, client, user, worker):
    from tests.support.factories import upload, wait_until_terminal

    session_id = upload(client, user.headers, image_bytes()).get_json()["session_id"]
    wait_until_terminal(app, session_id)
    login(client, user.email, user.password)

    photo = client.get(f"/api/photos/{session_id}", headers=user.headers).get_json()
    html = client.get(f"/photos/{session_id}").get_data(as_text=True)

    assert photo["moderation"]["status"] == "approved"
    assert photo["moderation"]["source"] == "local"
    assert photo["moderation"]["model_version"]
    assert 'data-moderation-status="approved"' in html
    assert photo["moderation"]["model_version"] in html


def test_a_file_refused_at_upload_is_named_on_its_job_page_and_never_counted_as_failed(
    app, client, user, worker
):
    form = {
        "files": [
            (io.BytesIO(image_bytes("JPEG", (200, 150))), "beach.jpg"),
            (io.BytesIO(b"not pixels"), "<b>notes.txt"),
        ]
    }
    job_id = client.post(
        "/api/bulk-nsfw/upload", headers=user.headers, data=form, content_type="multipart/form-data"
    ).get_json()["job_id"]
    status = wait_for_job(client, user.headers, job_id)
    login(client, user.email, user.password)

    listing = client.get("/jobs").get_data(as_text=True)
    html = client.get(f"/jobs/{job_id}").get_data(as_text=True)

    row = re.search(rf'<tr data-job-id="{job_id}".*?</tr>', listing, re.S).group(0)
    assert "<th>Failed in processing</th><th>Refused at upload</th>" in listing
    assert '<td data-count="failed">0</td><td data-count="refused">1</td>' in row
    assert ">completed with errors</span>" in row and ">completed_with_errors<" not in row
    assert (
        "<dt>failed in processing</dt><dd>0</dd>" in html and "<dt>refused at upload</dt><dd>1</dd>" in html
    )
    refused = re.search(
        r'<tr data-refused-order="1" data-error-code="unsupported_image">(.*?)</tr>', html, re.S
    )
    assert "<td>2</td>" in refused.group(1)  # the second file, numbered from 1 as the batch page does
    assert "&lt;b&gt;notes.txt" in refused.group(1)
    assert "The file is not a JPEG, PNG, WebP, GIF, HEIC or AVIF image." in refused.group(1)
    assert (status["status"], status["failed"], status["refused"]) == ("completed_with_errors", 0, 1)
    assert status["refused_files"] == [
        {
            "filename": "<b>notes.txt",
            "upload_order": 1,
            "error": {
                "code": "unsupported_image",
                "message": "The file is not a JPEG, PNG, WebP, GIF, HEIC or AVIF image.",
            },
        }
    ]
