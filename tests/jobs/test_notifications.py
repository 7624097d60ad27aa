"""Notifications out: a signed job.completed event, retried with backoff, logged on the job page."""

import io
import time
import uuid

import pytest

from tests.support.factories import Person, image_bytes, wait_for
from tests.support.jobs import wait_for_job
from tests.support.pages import login
from tests.support.standin import StandIn
from webapp.queue import enqueue_notification, photo_queue


def batch(client, user, count: int, **fields) -> str:
    form = {"files": [(io.BytesIO(image_bytes()), f"{n}.jpg") for n in range(count)], **fields}
    response = client.post(
        "/api/bulk-nsfw/upload", headers=user.headers, data=form, content_type="multipart/form-data"
    )
    assert response.status_code == 202, response.get_json()
    return response.get_json()["job_id"]


def signing_secret(client, user: Person) -> str:
    return client.get("/api/account/signing-secret", headers=user.headers).get_json()["secret"]


def test_a_finished_job_is_announced_signed_retried_until_taken_and_logged(client, user, worker):
    with StandIn(verifying_secret=signing_secret(client, user)) as receiver:
        receiver.answers.append(500)  # the first attempt fails
        job_id = batch(client, user, 2, callback_url=receiver.url)
        wait_for_job(client, user.headers, job_id)

        attempts = receiver.wait_for_requests(2, timeout=30)

    assert all(attempt.signature_valid for attempt in attempts)
    assert attempts[0].headers["webhook-id"] == attempts[1].headers["webhook-id"]
    event = attempts[1].body
    assert event["type"] == "job.completed"
    assert event["data"]["job_id"] == job_id
    assert (event["data"]["status"], event["data"]["total"], event["data"]["approved"]) == ("completed", 2, 2)
    assert [image["upload_order"] for image in event["data"]["images"]] == [0, 1]
    assert event["data"]["status_url"].endswith(f"/api/bulk-nsfw/{job_id}/status")
    login(client, user.email, user.password)
    page = wait_for(
        lambda: (
            (html := client.get(f"/jobs/{job_id}").get_data(as_text=True)).count("data-attempt=") == 2
            and html
        )
    )
    assert 'data-attempt="1" data-delivered="false"' in page
    assert 'data-attempt="2" data-delivered="true"' in page
    assert "The receiver answered 500." in page


def test_an_endpoint_that_answers_410_is_not_retried(client, user, worker):
    with StandIn(verifying_secret=signing_secret(client, user)) as receiver:
        receiver.answers.append(410)
        job_id = batch(client, user, 1, callback_url=receiver.url)
        wait_for_job(client, user.headers, job_id)
        receiver.wait_for_requests(1, timeout=30)
        time.sleep(3)  # three times the retry interval the suite configures

        assert len(receiver.received) == 1
    login(client, user.email, user.password)
    assert "410 Gone: not retried" in client.get(f"/jobs/{job_id}").get_data(as_text=True)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "file:///etc/passwd",
        "ftp://example.com/x",
        "not a url",
    ],
)
def test_callback_urls_to_loopback_or_private_networks_are_refused(app, client, user, monkeypatch, url):
    monkeypatch.setitem(app.config, "ALLOW_PRIVATE_CALLBACKS", False)

    response = client.post("/api/bulk-nsfw/jobs", headers=user.headers, json={"callback_url": url})

    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid_callback_url"


def test_a_users_default_callback_url_is_used_when_a_job_names_none(app, client, user, monkeypatch):
    monkeypatch.setitem(app.config, "QUEUE_NAME", "nobody-listens-here")
    saved = client.put(
        "/api/account", headers=user.headers, json={"default_callback_url": "http://127.0.0.1:9/x"}
    )
    assert saved.status_code == 200

    created = client.post("/api/bulk-nsfw/jobs", headers=user.headers, json={}).get_json()
    assert created["callback_url"] == "http://127.0.0.1:9/x"
    monkeypatch.setitem(app.config, "ALLOW_PRIVATE_CALLBACKS", False)
    refused = client.put(
        "/api/account", headers=user.headers, json={"default_callback_url": "http://10.0.0.1/x"}
    )
    assert refused.status_code == 422


def test_a_delivery_job_run_again_after_the_event_was_taken_sends_nothing_more(app, client, user, worker):
    """RQ runs a job again when it cannot record its end (a worker lost on another node left it
    half-recorded), and the reconciler may queue it: the receiver still gets the event once."""
    with StandIn(verifying_secret=signing_secret(client, user)) as receiver:
        job_id = batch(client, user, 1, callback_url=receiver.url)
        wait_for_job(client, user.headers, job_id)
        receiver.wait_for_requests(1, timeout=30)
        with app.app_context():
            enqueue_notification(uuid.UUID(job_id))
            queue = photo_queue()
            wait_for(lambda: not queue.count and not queue.started_job_registry.count)
        time.sleep(1)

        assert len(receiver.received) == 1
