"""Uploads that cost a decoder far more than they cost the sender (issue 18): each one bounded.

Memory and CPU budgets are set small here, so small generated files prove what the real-sized
bombs of the issue would do (`python -m bench.decode_bombs` measures those).
"""

import io
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
import requests
from PIL import Image

from tests.support.factories import (
    encoded,
    image_bytes,
    multi_picture_jpeg,
    upload,
    wait_for,
    wait_until_terminal,
)
from tests.support.processes import ROOT, start_worker, stop
from webapp.imaging import UploadLimits, decode_budget, inspect_upload
from webapp.imaging.jpeg import MAX_SCANS, JpegPicture, read_picture
from webapp.testing import servers
from webapp.testing.bombs import gif_of_frames, progressive_jpeg, scan_bomb

MIB = 1024 * 1024
VALIDATION_BUDGET = 16 * MIB


@pytest.fixture
def web_server(service_env, app):
    """A gunicorn worker with a 16 MiB validation budget, and its pid; no worker takes its jobs."""
    port = servers.free_port()
    env = {**os.environ, **service_env, "VALIDATION_MEMORY_BYTES": str(VALIDATION_BUDGET)}
    env["QUEUE_NAME"] = f"unserved-{uuid.uuid4().hex[:6]}"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "-w",
        "1",
        "--no-control-socket",
        "wsgi:app",
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        servers.wait_until(lambda: urllib.request.urlopen(base + "/login", timeout=2), 30, "gunicorn")
        worker_pid = int(Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()[0])
        yield base, worker_pid
    finally:
        stop(process)


def _status_kib(pid: int, field: str) -> int:
    return int(Path(f"/proc/{pid}/status").read_text().split(f"{field}:")[1].split()[0])


def test_validating_a_progressive_jpeg_keeps_the_web_process_within_its_budget(web_server, user):
    base, pid = web_server
    post = lambda data: requests.post(  # noqa: E731
        base + "/api/photos/upload", headers=user.headers, files={"file": ("photo.jpg", data)}, timeout=60
    )
    assert post(image_bytes("JPEG", (64, 64))).status_code == 202  # warm up: imports, pools, first request
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # the peak-RSS mark starts again from now
    start = _status_kib(pid, "VmRSS")

    # 4000x3000 4:4:4: its drafted output is 0.7 MiB, but libjpeg keeps 69 MiB of coefficients.
    response = post(progressive_jpeg((4000, 3000)))

    assert response.status_code == 202
    growth = (_status_kib(pid, "VmHWM") - start) * 1024
    assert growth < VALIDATION_BUDGET + 8 * MIB, f"grew {growth / MIB:.0f} MiB"


def test_the_coefficients_of_a_progressive_jpeg_count_against_the_validation_budget():
    limits = UploadLimits(10**8, 1, decode_budget(VALIDATION_BUDGET))

    progressive = inspect_upload(io.BytesIO(progressive_jpeg((2000, 1500))), limits)
    baseline = inspect_upload(io.BytesIO(image_bytes("JPEG", (2000, 1500), subsampling=0)), limits)

    assert not progressive.fully_decoded and baseline.fully_decoded


def test_the_coefficients_follow_the_sampling_factors_and_only_multi_scan_pictures_keep_them():
    full, halved = ((1, 1),) * 3, ((2, 2), (1, 1), (1, 1))

    assert JpegPicture(9400, 9400, full, True, 10, 3).coefficient_bytes == 3 * 1175 * 1175 * 128
    assert JpegPicture(9400, 9400, halved, True, 10, 3).coefficient_bytes == (1176**2 + 2 * 588**2) * 128
    assert JpegPicture(9400, 9400, full, False, 1, 3).coefficient_bytes == 0
    assert JpegPicture(9400, 9400, full, False, 3, 1).coefficient_bytes == 3 * 1175 * 1175 * 128


def test_a_scan_bomb_is_refused_before_decoding(app, client, user, bucket_keys):
    start = time.perf_counter()
    response = upload(client, user.headers, scan_bomb((64, 64), 1000), "photo.jpg")

    assert time.perf_counter() - start < 1
    assert response.status_code == 422
    assert response.get_json()["error"] == {
        "code": "too_many_scans",
        "message": f"The JPEG has more than {MAX_SCANS} scans; the limit is {MAX_SCANS}.",
    }
    assert bucket_keys() == []


def test_only_the_primary_pictures_scans_count():
    bomb = scan_bomb((16, 16), 3 * MAX_SCANS)
    in_exif = b"\xff\xe1" + (len(bomb) + 8).to_bytes(2, "big") + b"Exif\0\0" + bomb
    photo = image_bytes("JPEG", (64, 64))
    stereo = multi_picture_jpeg(Image.new("RGB", (64, 64)), Image.open(io.BytesIO(bomb)))

    assert read_picture(io.BytesIO(photo[:2] + in_exif + photo[2:])).scans == 1
    assert read_picture(io.BytesIO(stereo)).scans == 1


def test_a_million_frame_gif_is_refused_without_counting_them_all(app, client, user):
    start = time.perf_counter()
    response = upload(client, user.headers, gif_of_frames(1_000_000), "animation.gif")

    assert time.perf_counter() - start < 1.5
    assert response.status_code == 422
    assert response.get_json()["error"] == {
        "code": "too_many_frames",
        "message": "The image has more than 1,000 frames; the limit is 1,000.",
    }


@pytest.fixture
def tight_worker(app, service_env, monkeypatch):
    """A real worker, on a queue of its own, that decodes at most 40 MiB in 0.02 s of CPU."""
    queue = f"{service_env['QUEUE_NAME']}-tight-{uuid.uuid4().hex[:4]}"
    monkeypatch.setitem(app.config, "QUEUE_NAME", queue)
    settings = {
        "QUEUE_NAME": queue,
        "PROCESSING_MEMORY_BYTES": str(40 * MIB),
        "PROCESSING_CPU_SECONDS": "0.02",
    }
    process = start_worker(service_env, settings)
    yield
    stop(process)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(
            encoded(Image.new("RGB", (4000, 3000), "teal")),
            "The image needs 48.0 MB of memory to decode; this server decodes at most 41.9 MB.",
            id="48-MB-decode-over-a-40-MiB-budget",
        ),
        pytest.param(
            scan_bomb((2000, 2000), MAX_SCANS),
            "Decoding the image took more than 0.02 s of CPU time, the most this server allows.",
            id="slow-decode-over-its-cpu-time",
        ),
    ],
)
def test_the_worker_fails_a_decode_over_its_budget_with_a_readable_reason(
    app, client, user, tight_worker, data, reason
):
    response = upload(client, user.headers, data, "photo")

    assert response.status_code == 202
    session_id = response.get_json()["session_id"]
    assert wait_until_terminal(app, session_id) == "failed"
    # Its moderation ends `error` in the transaction after the photo's `failed`.
    photo = wait_for(
        lambda: (
            (answer := client.get(f"/api/photos/{session_id}", headers=user.headers).get_json())[
                "moderation"
            ]["status"]
            == "error"
            and answer
        ),
        timeout=10,
    )
    assert photo["error"] == f"The photo could not be processed: {reason}"
