"""Bulk NSFW jobs over the API: one-request batches, multi-request jobs, status, counters, isolation."""

import hashlib
import io
import threading
import uuid

import pytest
from sqlalchemy import func, select

from tests.support.factories import image_bytes, wait_for
from tests.support.jobs import job_status, wait_for_job
from tests.support.processes import start_worker, stop
from webapp.extensions import db
from webapp.models import BulkJob, BulkJobImage, JobStatus, ModerationStatus, VirtualImage
from webapp.services.jobs import job_counters
from webapp.services.operations import reconciler
from webapp.services.photos import processing

JOB_URL = "http://localhost/api/bulk-nsfw/jobs/"


def files_form(*files: tuple[bytes, str], orders: list[int] | None = None, **fields) -> dict:
    form = {"files": [(io.BytesIO(data), name) for data, name in files], **fields}
    if orders is not None:
        form["upload_order"] = [str(order) for order in orders]
    return form


def post_files(client, headers, url: str, form: dict):
    return client.post(url, headers=headers, data=form, content_type="multipart/form-data")


def test_a_one_request_batch_stores_the_valid_files_refuses_the_bad_one_and_finishes(client, user, worker):
    form = files_form(
        (image_bytes("JPEG"), "a.jpg"),
        (image_bytes("PNG"), "b.png"),
        (b"nope", "c.jpg"),
        (image_bytes(), "d.jpg"),
    )
    response = post_files(client, user.headers, "/api/bulk-nsfw/upload", form)

    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "queued"
    assert body["total"] == 3
    assert [(image["upload_order"], image["filename"]) for image in body["images"]] == [
        (0, "a.jpg"),
        (1, "b.png"),
        (3, "d.jpg"),
    ]
    assert body["rejected"] == [
        {
            "filename": "c.jpg",
            "upload_order": 2,
            "error": {
                "code": "unsupported_image",
                "message": "The file is not a JPEG, PNG, WebP, GIF, HEIC or AVIF image.",
            },
        }
    ]
    status = wait_for_job(client, user.headers, body["job_id"])
    assert status["status"] == "completed_with_errors"  # a file was refused at upload
    assert (status["total"], status["pending"], status["approved"], status["refused"]) == (3, 0, 3, 1)
    assert [image["moderation_status"] for image in status["images"]] == ["approved"] * 3
    assert all(image["labels"] == [] or "Name" in image["labels"][0] for image in status["images"])


def test_a_file_refused_once_and_stored_on_a_later_try_is_no_longer_refused(client, user, worker):
    job_id = client.post("/api/bulk-nsfw/jobs", headers=user.headers, json={"provider": "local"}).get_json()[
        "job_id"
    ]
    url = f"/api/bulk-nsfw/jobs/{job_id}/files"
    first = post_files(client, user.headers, url, files_form((b"half a file", "a.jpg"), orders=[0]))
    refused = job_status(client, user.headers, job_id)

    again = post_files(client, user.headers, url, files_form((image_bytes(), "a.jpg"), orders=[0]))
    client.post(f"/api/bulk-nsfw/jobs/{job_id}/submit", headers=user.headers)
    status = wait_for_job(client, user.headers, job_id)

    assert first.get_json()["rejected"][0]["upload_order"] == 0
    assert (refused["refused"], [file["filename"] for file in refused["refused_files"]]) == (1, ["a.jpg"])
    assert again.get_json()["images"][0]["upload_order"] == 0
    assert (status["status"], status["refused"], status["refused_files"]) == ("completed", 0, [])


def test_a_job_built_over_several_requests_keeps_the_browsers_order_and_pages_its_status(
    client, user, worker
):
    created = client.post("/api/bulk-nsfw/jobs", headers=user.headers, json={"provider": "local"})
    assert created.status_code == 201
    job_id = created.get_json()["job_id"]
    assert created.get_json()["status"] == "uploading"
    url = f"/api/bulk-nsfw/jobs/{job_id}/files"

    first = post_files(client, user.headers, url, files_form((image_bytes(), "3.jpg"), orders=[3]))
    second = post_files(
        client,
        user.headers,
        url,
        files_form((image_bytes(), "0.jpg"), (image_bytes(), "1.jpg"), orders=[0, 1]),
    )
    third = post_files(client, user.headers, url, files_form((image_bytes(), "2.jpg"), orders=[2]))
    assert [r.status_code for r in (first, second, third)] == [200, 200, 200]
    submitted = client.post(f"/api/bulk-nsfw/jobs/{job_id}/submit", headers=user.headers)

    assert submitted.status_code == 202
    assert submitted.get_json() == {"job_id": job_id, "url": JOB_URL + job_id, "status": "queued", "total": 4}
    assert wait_for_job(client, user.headers, job_id)["status"] == "completed"
    page = job_status(client, user.headers, job_id, page=2, per_page=2)
    assert [(image["upload_order"], image["filename"]) for image in page["images"]] == [
        (2, "2.jpg"),
        (3, "3.jpg"),
    ]
    assert (page["page"], page["per_page"], page["pages"]) == (2, 2, 2)


def test_a_batch_is_processed_while_it_uploads_and_ends_at_its_submit(client, user, worker):
    job_id = client.post("/api/bulk-nsfw/jobs", headers=user.headers, json={}).get_json()["job_id"]
    files = files_form((image_bytes(), "a.jpg"), (image_bytes("PNG"), "b.png"))
    post_files(client, user.headers, f"/api/bulk-nsfw/jobs/{job_id}/files", files)

    done = wait_for(lambda: (s := job_status(client, user.headers, job_id))["processed"] == 2 and s, 60)
    assert (done["status"], done["total"], done["pending"], done["approved"]) == ("uploading", 2, 0, 2)
    submitted = client.post(f"/api/bulk-nsfw/jobs/{job_id}/submit", headers=user.headers)

    assert submitted.get_json() == {"job_id": job_id, "url": JOB_URL + job_id, "status": "queued", "total": 2}
    assert job_status(client, user.headers, job_id)["status"] == "completed"  # nothing left to wait for


def test_a_job_level_provider_starts_at_the_submit_of_a_job_processed_while_uploading(
    app, client, user, parked
):
    job_id = client.post(
        "/api/bulk-nsfw/jobs", headers=user.headers, json={"provider": "rekognition_bulk"}
    ).get_json()["job_id"]
    files = files_form((image_bytes(), "a.jpg"), (image_bytes(), "b.jpg"))
    body = post_files(client, user.headers, f"/api/bulk-nsfw/jobs/{job_id}/files", files).get_json()
    with app.app_context():
        for image in body["images"]:
            processing.process_session(uuid.UUID(image["session_id"]))
        assert not reconciler.is_live(f"bulk-start-{job_id}")  # not while files may still come

    client.post(f"/api/bulk-nsfw/jobs/{job_id}/submit", headers=user.headers)

    status = job_status(client, user.headers, job_id)
    assert (status["status"], status["processed"], status["pending"]) == ("processing", 2, 2)
    with app.app_context():
        assert reconciler.is_live(f"bulk-start-{job_id}")


def test_a_photo_is_never_ended_without_being_counted_in_its_job(app, client, user, parked, monkeypatch):
    job_id = client.post("/api/bulk-nsfw/jobs", headers=user.headers, json={}).get_json()["job_id"]
    files = files_form((image_bytes(), "a.jpg"))
    body = post_files(client, user.headers, f"/api/bulk-nsfw/jobs/{job_id}/files", files).get_json()
    session_id = uuid.UUID(body["images"][0]["session_id"])
    move = job_counters.move

    def crash_when_counting(job, moves, processed=0):
        if processed:
            raise RuntimeError("the worker died here")
        return move(job, moves, processed)

    with app.app_context(), monkeypatch.context() as crashing:
        crashing.setattr(job_counters, "move", crash_when_counting)
        with pytest.raises(RuntimeError):
            processing.process_session(session_id)
    assert job_status(client, user.headers, job_id)["processed"] == 0
    with app.app_context():
        processing.process_session(session_id)  # the job's retry

    status = job_status(client, user.headers, job_id)
    assert (status["processed"], status["approved"], status["images"][0]["filename"]) == (1, 1, "a.jpg")


def test_files_after_submit_and_a_taken_upload_order_are_refused_clearly(client, user, monkeypatch, app):
    monkeypatch.setitem(app.config, "QUEUE_NAME", "nobody-listens-here")
    job_id = client.post("/api/bulk-nsfw/jobs", headers=user.headers, json={}).get_json()["job_id"]
    url = f"/api/bulk-nsfw/jobs/{job_id}/files"
    post_files(client, user.headers, url, files_form((image_bytes(), "a.jpg"), orders=[0]))

    taken = post_files(
        client,
        user.headers,
        url,
        files_form((image_bytes(color="red"), "b.jpg"), (image_bytes(), "c.jpg"), orders=[0, 1]),
    )
    assert [image["filename"] for image in taken.get_json()["images"]] == ["c.jpg"]
    assert taken.get_json()["rejected"][0]["error"]["code"] == "duplicate_upload_order"

    client.post(f"/api/bulk-nsfw/jobs/{job_id}/submit", headers=user.headers)
    late = post_files(client, user.headers, url, files_form((image_bytes(), "d.jpg")))
    assert late.status_code == 409
    assert late.get_json()["error"]["code"] == "job_not_uploading"
    again = client.post(f"/api/bulk-nsfw/jobs/{job_id}/submit", headers=user.headers)
    assert again.status_code == 409
    assert job_status(client, user.headers, job_id)["total"] == 2


def test_a_retried_file_whose_first_attempt_was_stored_is_answered_as_stored_once(client, user, parked):
    job_id = client.post("/api/bulk-nsfw/jobs", headers=user.headers, json={}).get_json()["job_id"]
    url = f"/api/bulk-nsfw/jobs/{job_id}/files"

    first, retried = (
        post_files(client, user.headers, url, files_form((image_bytes(), "a.jpg"), orders=[3]))
        for _ in range(2)
    )

    assert first.get_json() == retried.get_json()
    assert retried.get_json()["rejected"] == []
    assert job_status(client, user.headers, job_id)["total"] == 1


def test_a_job_says_which_files_it_holds_and_where_to_number_the_rest(client, user, other_user, parked):
    job_id = client.post("/api/bulk-nsfw/jobs", headers=user.headers, json={}).get_json()["job_id"]
    held, other = image_bytes(), image_bytes(color="red")
    post_files(
        client, user.headers, f"/api/bulk-nsfw/jobs/{job_id}/files", files_form((held, "a.jpg"), orders=[0])
    )
    post_files(
        client, user.headers, f"/api/bulk-nsfw/jobs/{job_id}/files", files_form((other, "b.jpg"), orders=[7])
    )
    url = f"/api/bulk-nsfw/jobs/{job_id}/check"
    files = [
        {"sha256": hashlib.sha256(held).hexdigest().upper(), "size": len(held), "filename": "renamed.jpg"},
        {"sha256": hashlib.sha256(held).hexdigest(), "size": len(held) + 1, "filename": "a.jpg"},
        {"sha256": hashlib.sha256(b"never sent").hexdigest(), "size": 10, "filename": "c.jpg"},
    ]

    answer = client.post(url, headers=user.headers, json={"files": files}).get_json()

    assert [(file["filename"], file["status"], file["upload_order"]) for file in answer["files"]] == [
        ("renamed.jpg", "present", 0),
        ("a.jpg", "missing", None),
        ("c.jpg", "missing", None),
    ]
    assert (answer["next_upload_order"], answer["status"]) == (8, "uploading")
    assert client.post(url, headers=other_user.headers, json={"files": files}).status_code == 404
    for body in ({"files": []}, {"files": [{"sha256": "xyz", "size": 1}]}, {"files": [{"sha256": "a" * 64}]}):
        refused = client.post(url, headers=user.headers, json=body)
        assert (refused.status_code, refused.get_json()["error"]["code"]) == (422, "invalid_field")


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"upload_order": ["0", "x"]}, "bad_upload_order"),
        ({"upload_order": ["1", "1"]}, "bad_upload_order"),
        ({"upload_order": ["0"]}, "bad_upload_order"),
    ],
)
def test_malformed_upload_orders_are_400(client, user, form, code):
    job_id = client.post("/api/bulk-nsfw/jobs", headers=user.headers, json={}).get_json()["job_id"]
    data = files_form((image_bytes(), "a.jpg"), (image_bytes(), "b.jpg")) | form

    response = post_files(client, user.headers, f"/api/bulk-nsfw/jobs/{job_id}/files", data)

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == code


def test_an_unknown_provider_is_422_and_creates_nothing(app, client, user):
    response = client.post("/api/bulk-nsfw/jobs", headers=user.headers, json={"provider": "magic"})

    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "unknown_provider"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(BulkJob)) == 0


def test_another_users_job_is_404_everywhere(client, user, other_user, monkeypatch, app):
    monkeypatch.setitem(app.config, "QUEUE_NAME", "nobody-listens-here")
    job_id = client.post("/api/bulk-nsfw/jobs", headers=user.headers, json={}).get_json()["job_id"]

    for method, path in [
        ("get", f"/api/bulk-nsfw/{job_id}/status"),
        ("post", f"/api/bulk-nsfw/jobs/{job_id}/submit"),
        ("post", f"/api/bulk-nsfw/jobs/{job_id}/files"),
    ]:
        assert getattr(client, method)(path, headers=other_user.headers).status_code == 404
    assert job_id not in client.get("/api/bulk-nsfw/jobs", headers=other_user.headers).get_data(as_text=True)


def test_counters_stay_right_under_concurrent_updates(app, user):
    """Eight threads, each its own database session, decide 200 images of one job at once."""
    with app.app_context():
        job = BulkJob(owner_id=user.id, provider="local", status=JobStatus.PROCESSING, total=200, pending=200)
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    outcomes = [
        ModerationStatus.APPROVED,
        ModerationStatus.FLAGGED,
        ModerationStatus.REJECTED,
        ModerationStatus.ERROR,
    ]

    def decide(thread: int) -> None:
        with app.app_context():
            for n in range(25):
                job_counters.move(
                    job_id, {(ModerationStatus.PENDING, outcomes[(thread + n) % 4]): 1}, processed=1
                )
                db.session.commit()

    threads = [threading.Thread(target=decide, args=(thread,)) for thread in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with app.app_context():
        job = db.session.get(BulkJob, job_id)
        assert (job.pending, job.processed) == (0, 200)
        assert (job.approved, job.flagged, job.rejected, job.failed) == (50, 50, 50, 50)
        assert job.status == JobStatus.COMPLETED_WITH_ERRORS
        assert job.completed_at is not None


def test_counters_match_the_images_when_several_workers_share_a_batch(app, client, user, worker, service_env):
    extra = [start_worker(service_env) for _ in range(2)]
    try:
        form = files_form(
            *[(image_bytes("JPEG", (320, 240), color=(n, 90, 140)), f"{n}.jpg") for n in range(24)]
        )
        job_id = post_files(client, user.headers, "/api/bulk-nsfw/upload", form).get_json()["job_id"]
        status = wait_for_job(client, user.headers, job_id)
    finally:
        for process in extra:
            stop(process)

    with app.app_context():
        statuses = db.session.scalars(
            select(VirtualImage.moderation_status)
            .join(BulkJobImage, BulkJobImage.virtual_image_id == VirtualImage.id)
            .where(BulkJobImage.job_id == uuid.UUID(job_id))
        ).all()
    assert status["status"] == "completed"
    assert (status["total"], status["pending"], status["processed"]) == (24, 0, 24)
    assert status["approved"] == statuses.count(ModerationStatus.APPROVED) == 24
