"""`make run`'s command with no configuration at all: SQLite, local disk, its own Redis, web and worker."""

import io
import json
import os
import signal
import subprocess
import sys
import urllib.request

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.support.factories import encoded, image_bytes, scene, wait_for
from tests.support.faults import descendants
from tests.support.processes import ROOT, running
from tests.support.services import free_port, wait_until
from webapp.imaging import make_derivatives

CONFIGURATION = ("DATABASE_URL", "REDIS_URL", "S3_BUCKET", "S3_ENDPOINT_URL", "SECRET_KEY", "QUEUE_NAME")


@pytest.fixture
def embedded(tmp_path):
    """`flask --app wsgi up` in a fresh instance folder, stopped with Ctrl-C (SIGINT to its group)."""
    env = {name: value for name, value in os.environ.items() if name not in CONFIGURATION}
    env |= {"PHOTOGATE_INSTANCE_PATH": str(tmp_path), "PORT": str(free_port())}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    process = subprocess.Popen([*flask, "up"], cwd=ROOT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{env['PORT']}"
    wait_until(lambda: urllib.request.urlopen(base + "/login", timeout=2), 60, "photogate")
    created = subprocess.run(
        [*flask, "users", "create", "me@example.com"], cwd=ROOT, env=env, capture_output=True
    )
    yield base, created.stdout.decode().strip().splitlines()[-1], tmp_path, process
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(30)


def _api(base: str, token: str, path: str, body: bytes | None = None, content_type: str = "") -> dict:
    request = urllib.request.Request(base + path, data=body, headers={"Authorization": f"Bearer {token}"})
    if content_type:
        request.add_header("Content-Type", content_type)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def test_a_photo_is_processed_with_no_configuration_and_ctrl_c_stops_everything(embedded):
    base, token, instance, process = embedded
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(image_bytes()), filename="a.jpg")})
    accepted = _api(base, token, "/api/photos/upload", body, f"multipart/form-data; boundary={boundary}")

    photo = wait_for(
        lambda: (
            (p := _api(base, token, f"/api/photos/{accepted['session_id']}"))["status"] == "completed" and p
        )
    )
    assert (instance / "photogate.db").exists()
    stored = sorted(
        p.relative_to(instance / "storage").as_posix() for p in (instance / "storage").rglob("*.*")
    )
    assert stored == sorted(image["key"] for image in photo["images"])
    private = [
        instance,
        instance / "photogate.db",
        instance / "secret_key",
        *(instance / "storage").rglob("*"),
    ]
    assert {path.name: oct(path.stat().st_mode & 0o077) for path in private} == {
        path.name: "0o0" for path in private
    }  # nothing readable by group or others

    children = descendants(process.pid)  # Redis, the workers (their horses, RQ's scheduler), cron, web
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C at the terminal
    assert process.wait(30) == 0
    assert not (instance / "redis.sock").exists()
    # RQ's scheduler process may take a moment longer than the worker that started it.
    wait_for(lambda: not any(running(child) for child in children), timeout=10)


def test_hash_banks_work_on_the_embedded_database(embedded):
    base, _token, instance, _process = embedded
    env = {name: value for name, value in os.environ.items() if name not in CONFIGURATION}
    env["PHOTOGATE_INSTANCE_PATH"] = str(instance)
    created = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "users", "create", "admin@example.com", "--admin"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=True,
    )
    token = created.stdout.decode().strip().splitlines()[-1]
    original = scene(5)
    bank = _api(
        base,
        token,
        "/api/banks",
        json.dumps({"name": "Known", "action": "reject"}).encode(),
        "application/json",
    )
    listing = f"{make_derivatives(encoded(original, 'JPEG', quality=90)).fingerprint.pdq},seen before\n"
    imported = _api(base, token, f"/api/banks/{bank['id']}/import", (listing * 2).encode(), "text/csv")
    assert imported == {"added": 1, "already_present": 1}

    copy = encoded(original.resize((original.width // 2, original.height // 2)), "JPEG", quality=80)
    other = encoded(scene(6), "JPEG", quality=80)
    matched, first, again = (_processed(base, token, data) for data in (copy, other, other))

    assert (matched["status"], matched["source"], matched["match"]["bank"]) == (
        "rejected",
        "hash_match",
        "Known",
    )
    assert first["source"] == "local"
    assert (again["status"], again["source"], again["duplicate_of"]) == (
        first["status"],
        "duplicate_of",
        first["virtual_image_id"],
    )


def _processed(base: str, token: str, data: bytes) -> dict:
    """Upload a photo and wait for its verdict; its moderation."""
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), filename="a.jpg")})
    accepted = _api(base, token, "/api/photos/upload", body, f"multipart/form-data; boundary={boundary}")
    return wait_for(
        lambda: (
            (m := _api(base, token, f"/api/photos/{accepted['session_id']}")["moderation"])["status"]
            != "pending"
            and m
        )
    )
