"""Transient errors are retried with backoff by real workers; when retries run out the photo ends failed."""

import pytest

from tests.support.factories import image_bytes, upload, wait_until_terminal
from tests.support.processes import start_worker, stop
from webapp.models import Role
from webapp.testing import servers


@pytest.fixture
def queue_with_unreachable_storage(app, service_env, monkeypatch):
    """A queue served by a worker whose S3 endpoint does not answer."""
    queue = f"{service_env['QUEUE_NAME']}-unreachable"
    monkeypatch.setitem(app.config, "QUEUE_NAME", queue)
    dead_endpoint = f"http://127.0.0.1:{servers.free_port()}"
    process = start_worker(service_env, {"QUEUE_NAME": queue, "S3_ENDPOINT_URL": dead_endpoint})
    yield queue
    stop(process)


def test_a_photo_whose_storage_stays_down_ends_failed_after_its_retries(
    app, client, user, queue_with_unreachable_storage
):
    session_id = upload(client, user.headers, image_bytes()).get_json()["session_id"]

    assert wait_until_terminal(app, session_id, timeout=90) == "failed"
    photo = client.get(f"/api/photos/{session_id}", headers=user.headers).get_json()
    assert photo["error"].startswith("Processing failed after every retry: StorageUnavailable")
    assert [image["kind"] for image in photo["images"]] == ["original"]


def test_an_admin_requeue_of_a_photo_that_failed_for_good_processes_it_again(
    app, client, user, service_env, monkeypatch
):
    from tests.support.factories import make_user
    from tests.support.pages import signed_in
    from webapp.queue import processing_job_id

    queue = f"{service_env['QUEUE_NAME']}-requeue"
    monkeypatch.setitem(app.config, "QUEUE_NAME", queue)
    dead_endpoint = f"http://127.0.0.1:{servers.free_port()}"
    broken = start_worker(service_env, {"QUEUE_NAME": queue, "S3_ENDPOINT_URL": dead_endpoint})
    try:
        session_id = upload(client, user.headers, image_bytes()).get_json()["session_id"]
        assert wait_until_terminal(app, session_id, timeout=90) == "failed"
    finally:
        stop(broken)
    healthy = start_worker(service_env, {"QUEUE_NAME": queue})
    try:
        admin_person = make_user(app, "admin@example.com", role=Role.ADMIN)
        admin = signed_in(app.test_client(), admin_person)
        response = admin.post(
            f"/admin/queues/failed/{processing_job_id(session_id)}/requeue",
            headers={**admin.csrf_headers, "HX-Request": "true"},
        )
        assert response.status_code == 200

        assert wait_until_terminal(app, session_id, timeout=60) == "completed"
    finally:
        stop(healthy)
    photo = client.get(f"/api/photos/{session_id}", headers=user.headers).get_json()
    assert (photo["error"], photo["moderation"]["status"]) == (None, "approved")
    assert len(photo["images"]) == 4
    # The audit log tells it: the system gave up, the admin reopened the image, the model decided it.
    image_id = photo["moderation"]["virtual_image_id"]
    log = client.get("/api/audit", headers=admin_person.headers, query_string={"virtual_image_id": image_id})
    told = [(e["kind"], e["actor"], e["before"], e["after"]) for e in reversed(log.get_json()["events"])]
    assert told == [
        ("decision", "system", "pending", "error"),
        ("reopen", "admin@example.com", "error", "pending"),
        ("decision", "local", "pending", "approved"),
    ]
