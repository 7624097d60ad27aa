"""The admin queues page over real Redis and RQ: counts, workers, grouped failures, requeues, cancels."""

import io
import re
import time
import traceback
import uuid
from datetime import timedelta

import pytest
from rq import Queue, SimpleWorker
from rq.job import Job

from tests.support.factories import Person, image_bytes, wait_for
from tests.support.jobs import job_status
from tests.support.pages import htmx_post, signed_in
from tests.support.processes import start_worker, stop
from tests.support.verdicts import photo_with
from webapp.queue import photo_queue, redis_connection
from webapp.services.operations.queue_admin import failures as queues

DISK_FULL = f"{__name__}.DiskFull"  # the exception type as RQ records it: this module's own path


class DiskFull(Exception):
    pass


def boom(message: str = "No space left on device") -> None:
    raise DiskFull(message)


def reject(message: str) -> None:
    raise ValueError(message)


def succeed() -> None:
    return None


@pytest.fixture(autouse=True)
def test_queue(app, monkeypatch) -> str:
    """A queue of this test's own that no worker listens to: jobs stay where the test puts them."""
    name = f"admin-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(app.config, "QUEUE_NAME", name)
    return name


@pytest.fixture
def admin_browser(client, admin):
    return signed_in(client, admin)


def enqueue(app, function, *args, queue_name: str | None = None, **options) -> str:
    with app.app_context():
        queue = Queue(queue_name, connection=redis_connection()) if queue_name else photo_queue()
        return queue.enqueue(function, *args, **options).id


def run_jobs(app) -> None:
    """Run every job waiting on the test's queue in this process, as a worker would, until none is left."""
    with app.app_context():
        queue = photo_queue()
        SimpleWorker([queue], connection=queue.connection).work(burst=True)


def statuses(app, job_ids: list[str]) -> list[str]:
    with app.app_context():
        jobs = Job.fetch_many(job_ids, connection=redis_connection())
        return [job.get_status(refresh=False) for job in jobs]


def batch(client, owner: Person, count: int) -> tuple[str, list[dict]]:
    """A bulk job of `count` photos, submitted; its photos wait on the test's queue."""
    files = [(io.BytesIO(image_bytes("JPEG", (120, 90))), f"p{n}.jpg") for n in range(count)]
    response = client.post(
        "/api/bulk-nsfw/upload",
        headers=owner.headers,
        data={"files": files},
        content_type="multipart/form-data",
    )
    body = response.get_json()
    return body["job_id"], body["images"]


def counts(html: str, queue_name: str) -> dict[str, int]:
    row = re.search(rf'<tr data-queue="{re.escape(queue_name)}">(.*?)</tr>', html, re.S).group(1)
    return {state: int(value) for state, value in re.findall(r'data-count="(\w+)"[^>]*>(\d+)<', row)}


def groups(html: str) -> list[tuple[str, str, int]]:
    """(type, message, count) of each failure group, in page order."""
    found = re.findall(
        r'data-error-type="([^"]*)" data-count="(\d+)">.*?<span data-message>([^<]*)</span>', html, re.S
    )
    return [(error_type, message, int(count)) for error_type, count, message in found]


def failed_row(html: str, job_id: str) -> str:
    return re.search(rf'<tr data-job-id="{re.escape(job_id)}">(.*?)</tr>', html, re.S).group(1)


def test_each_queue_counts_its_jobs_by_state_the_apps_queue_first(app, admin_browser, test_queue):
    enqueue(app, boom)
    enqueue(app, succeed)
    run_jobs(app)
    waiting = enqueue(app, succeed)
    enqueue(app, succeed)
    enqueue(app, succeed, depends_on=waiting)
    with app.app_context():
        photo_queue().enqueue_in(timedelta(hours=1), succeed)
    other = f"aaa-other-{uuid.uuid4().hex[:8]}"
    enqueue(app, succeed, queue_name=other)

    html = admin_browser.get("/admin/queues").get_data(as_text=True)

    assert counts(html, test_queue) == {
        "queued": 2,
        "started": 0,
        "scheduled": 1,
        "deferred": 1,
        "failed": 1,
    }
    assert counts(html, other)["queued"] == 1
    assert html.index(f'data-queue="{test_queue}"') < html.index(f'data-queue="{other}"')
    assert 'href="/static/css/admin.css"' in html


def photos_counted(html: str) -> dict[str, int]:
    return {state: int(n) for state, n in re.findall(r'data-photos="(\w+)"><strong>(\d+)</strong>', html)}


def test_the_photos_done_are_counted_in_the_database_not_in_rqs_empty_finished_registry(
    app, admin_browser, user
):
    before = photos_counted(admin_browser.get("/admin/queues").get_data(as_text=True))
    for n, state in enumerate(["completed", "completed", "failed"]):
        photo_with(app, user, f"done-{n}.jpg", "approved", state)

    html = admin_browser.get("/admin/queues").get_data(as_text=True)

    after = photos_counted(html)
    assert after["completed"] - before["completed"] == 2
    assert after["failed"] - before["failed"] == 1
    assert ">finished<" not in html  # photogate's jobs keep no result: that count always read 0
    assert re.search(r'<a href="/admin/queues" aria-current="page">Queues</a>', html)
    assert "<h1>Queues</h1>" in html


def test_an_htmx_request_gets_the_fragment_polling_only_its_live_part(app, admin_browser):
    response = admin_browser.get("/admin/queues", headers={"HX-Request": "true"})

    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert '<div id="admin-queues">' in html
    assert re.search(
        r'<div id="admin-live" hx-get="/admin/queues" hx-trigger="every 2s"\s+hx-select="#admin-live"', html
    )
    assert "HX-Request" in response.headers["Vary"]


def test_failures_are_grouped_by_exception_type_and_first_line_latest_group_first(app, admin_browser):
    for n in range(3):
        enqueue(app, boom, f"No space left on device\nwhile writing part {n}")
    for _ in range(2):
        enqueue(app, reject, "bad header")
    run_jobs(app)

    html = admin_browser.get("/admin/queues").get_data(as_text=True)

    assert groups(html) == [("ValueError", "bad header", 2), (DISK_FULL, "No space left on device", 3)]
    assert "the newest 5 of 5 failed jobs" in html


def test_only_the_newest_failures_are_grouped_and_the_page_says_how_many(app, admin_browser, monkeypatch):
    for _ in range(3):
        enqueue(app, boom)
    run_jobs(app)
    time.sleep(1.1)  # registries score by the second: the later failures must be a second newer
    for _ in range(2):
        enqueue(app, reject, "bad header")
    run_jobs(app)
    monkeypatch.setattr(queues, "FAILED_LIMIT", 2)

    html = admin_browser.get("/admin/queues").get_data(as_text=True)

    assert groups(html) == [("ValueError", "bad header", 2)]
    assert "the newest 2 of 5 failed jobs (at most 2 per queue)" in html


def test_failed_jobs_link_to_the_photo_and_the_bulk_job_they_worked_for(app, client, user, admin_browser):
    job_id, images = batch(client, user, 2)
    with app.app_context():
        photo_queue().empty()
    photo, image = images
    photo_job = enqueue(app, boom, meta={"photo": photo["session_id"]})
    image_job = enqueue(app, boom, meta={"virtual_image": image["virtual_image_id"]})
    notify_job = enqueue(app, boom, meta={"bulk_job": job_id})
    lost_photo = uuid.uuid4()
    lost_job = enqueue(app, boom, meta={"photo": str(lost_photo)})
    run_jobs(app)

    html = admin_browser.get("/admin/queues").get_data(as_text=True)

    assert groups(html) == [(DISK_FULL, "No space left on device", 4)]
    for job, session_id in ((photo_job, photo["session_id"]), (image_job, image["session_id"])):
        row = failed_row(html, job)
        assert f'href="/photos/{session_id}"' in row
        assert f'href="/jobs/{job_id}"' in row
    assert f'href="/jobs/{job_id}"' in failed_row(html, notify_job)
    assert "/photos/" not in failed_row(html, notify_job)
    assert f'href="/photos/{lost_photo}"' in failed_row(html, lost_job)
    assert re.search(rf'Bulk jobs:\s*<a href="/jobs/{job_id}"><code>{job_id}</code></a>\s*</p>', html)


def test_requeue_one_a_group_or_all_puts_failed_jobs_back_on_their_queue(app, admin_browser, test_queue):
    disk = [enqueue(app, boom, f"No space left on device\npart {n}") for n in range(2)]
    bad = [enqueue(app, reject, "bad header") for _ in range(2)]
    odd = enqueue(app, reject, "odd")
    run_jobs(app)

    one = htmx_post(admin_browser, f"/admin/queues/failed/{odd}/requeue", {}).get_data(as_text=True)
    assert "Requeued 1 failed job." in one
    assert "<html" not in one and '<div id="admin-queues">' in one
    assert statuses(app, [odd]) == ["queued"]

    group = {"type": DISK_FULL, "message": "No space left on device"}
    answer = htmx_post(admin_browser, "/admin/queues/failed/requeue-group", group).get_data(as_text=True)
    assert "Requeued 2 failed jobs." in answer
    assert statuses(app, disk + bad) == ["queued", "queued", "failed", "failed"]
    assert groups(answer) == [("ValueError", "bad header", 2)]

    everything = htmx_post(admin_browser, "/admin/queues/failed/requeue-all", {}).get_data(as_text=True)
    assert "Requeued 2 failed jobs." in everything
    assert (counts(everything, test_queue)["queued"], counts(everything, test_queue)["failed"]) == (5, 0)
    assert "No failed job." in everything

    again = htmx_post(admin_browser, f"/admin/queues/failed/{odd}/requeue", {})
    assert again.status_code == 200
    assert "Nothing was requeued" in again.get_data(as_text=True)


def test_a_requeued_job_runs_again(app, admin_browser):
    failed = enqueue(app, boom)
    run_jobs(app)
    htmx_post(admin_browser, f"/admin/queues/failed/{failed}/requeue", {})

    run_jobs(app)

    assert statuses(app, [failed]) == ["failed"]
    assert groups(admin_browser.get("/admin/queues").get_data(as_text=True))[0][2] == 1


def test_only_admins_see_the_queues_or_act_on_them(app, client, user):
    failed = enqueue(app, boom)
    run_jobs(app)

    anonymous = client.get("/admin/queues")
    assert anonymous.status_code == 302
    assert "/login" in anonymous.headers["Location"]

    browser = signed_in(client, user)
    assert browser.get("/admin/queues").status_code == 403
    assert browser.get("/admin/queues", headers={"HX-Request": "true"}).status_code == 403
    for path, form in (
        (f"/admin/queues/failed/{failed}/requeue", {}),
        ("/admin/queues/failed/requeue-group", {"type": DISK_FULL, "message": "No space left on device"}),
        ("/admin/queues/failed/requeue-all", {}),
        (f"/admin/jobs/{uuid.uuid4()}/cancel", {}),
    ):
        assert htmx_post(browser, path, form).status_code == 403
    assert statuses(app, [failed]) == ["failed"]


def test_an_admin_cancels_a_running_bulk_job_from_the_queues_page(app, client, user, admin_browser):
    job_id, _ = batch(client, user, 3)
    page = admin_browser.get("/admin/queues").get_data(as_text=True)
    assert f'hx-post="/admin/jobs/{job_id}/cancel"' in page

    answer = htmx_post(admin_browser, f"/admin/jobs/{job_id}/cancel", {}).get_data(as_text=True)

    assert f"Job {job_id} cancelled." in answer
    assert f'hx-post="/admin/jobs/{job_id}/cancel"' not in answer
    status = job_status(client, user.headers, job_id)
    assert (status["status"], status["total"], status["pending"], status["failed"]) == ("cancelled", 3, 0, 3)
    assert {image["moderation_status"] for image in status["images"]} == {"error"}
    again = htmx_post(admin_browser, f"/admin/jobs/{job_id}/cancel", {})
    assert again.status_code == 200
    assert "This job has already ended." in again.get_data(as_text=True)


def test_the_job_page_gives_admins_a_cancel_button_answering_its_fragment(app, client, user, admin_browser):
    job_id, _ = batch(client, user, 2)
    owner = signed_in(app.test_client(), user)
    assert "Cancel job" not in owner.get(f"/jobs/{job_id}").get_data(as_text=True)
    page = admin_browser.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert f'hx-post="/admin/jobs/{job_id}/cancel"' in page

    answer = admin_browser.post(
        f"/admin/jobs/{job_id}/cancel",
        headers={**admin_browser.csrf_headers, "HX-Request": "true"},
        data={"from": "job", "page": "1"},
        follow_redirects=True,
    )

    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "<html" not in html
    assert '<div id="job" data-status="cancelled"' in html
    assert "Cancel job" not in html and 'hx-trigger="every' not in html


def test_workers_are_listed_with_their_queues_state_current_job_and_heartbeat(
    app, service_env, admin_browser, test_queue
):
    session_id = uuid.uuid4()
    enqueue(app, time.sleep, 3, job_id=f"process-photo-{session_id}", meta={"photo": str(session_id)})
    process = start_worker(service_env, {"QUEUE_NAME": test_queue})
    try:
        html, row = wait_for(lambda: _busy_row(admin_browser, process.pid), timeout=60)
    finally:
        stop(process)

    assert f"pid {process.pid}" in row
    assert f"<code>{test_queue}</code>" in row
    assert f"<code data-current-job>process-photo-{session_id}</code>" in row
    assert f'href="/photos/{session_id}"' in row
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT[\d:.]+\+00:00">', row)
    assert counts(html, test_queue)["started"] == 1


def _busy_row(browser, pid: int) -> tuple[str, str] | None:
    """The page and the row of the worker with this pid once it is busy (the suite's own worker
    may be listed, and busy, too)."""
    html = browser.get("/admin/queues").get_data(as_text=True)
    rows = re.findall(r'<tr data-worker="[^"]+" data-state="busy">(.*?)</tr>', html, re.S)
    row = next((row for row in rows if f"pid {pid}<" in row), None)
    return (html, row) if row else None


def _chained_traceback() -> str:
    try:
        try:
            raise KeyError("first")
        except KeyError as exc:
            raise RuntimeError("second\nwith more detail") from exc
    except RuntimeError:
        return traceback.format_exc()


@pytest.mark.parametrize(
    ("exc_string", "error"),
    [
        (_chained_traceback(), ("RuntimeError", "second")),
        (
            "Moved to FailedJobRegistry, due to AbandonedJobError, at 2025-03-04 05:06:07.891011+00:00",
            ("", "Moved to FailedJobRegistry, due to AbandonedJobError"),
        ),
        (
            "Work-horse terminated unexpectedly; waitpid returned 9 (signal 9); ",
            ("", "Work-horse terminated unexpectedly; waitpid returned 9 (signal 9);"),
        ),
        (None, ("", queues.NO_TRACEBACK)),
    ],
)
def test_errors_are_the_raised_exception_or_rqs_own_reason(exc_string, error):
    assert queues.error_of(exc_string) == error
