"""`make run`'s command with no configuration at all: SQLite, local disk, its own Redis, web and worker."""

import io
import json
import os
import signal
import stat
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from gunicorn.ctl.client import ControlClient
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.support.environment import REQUEST_SECRET, WEBHOOK_SECRET
from tests.support.factories import encoded, image_bytes, scene, wait_for
from tests.support.faults import descendants
from tests.support.processes import ROOT, running
from tests.support.standin import StandIn, call_back
from webapp.imaging import make_derivatives
from webapp.testing.servers import free_port, wait_until

# Settings the suite exports that `make run` must do without.
CONFIGURATION = (
    "DATABASE_URL",
    "REDIS_URL",
    "S3_BUCKET",
    "S3_ENDPOINT_URL",
    "SECRET_KEY",
    "QUEUE_NAME",
    "PUBLIC_BASE_URL",
    "LOG_LEVEL",
    "XDG_RUNTIME_DIR",
)
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


@dataclass
class Up:
    """A running `flask --app wsgi up`: its address, instance folder, environment and output."""

    base: str
    folder: Path
    env: dict[str, str]
    process: subprocess.Popen
    output: Path

    def flask(self, *args: str) -> str:
        """Run a flask command on this instance; its last line of output."""
        done = subprocess.run([*FLASK, *args], cwd=ROOT, env=self.env, capture_output=True)
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout.decode().strip().splitlines()[-1]

    def log(self) -> str:
        return self.output.read_text(errors="replace")

    def stop(self) -> int:
        """Ctrl-C at its terminal (SIGINT to its process group); its exit status."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(30)


def start_up(where: Path, home: Path | None = None, **settings: str) -> Up:
    """`flask --app wsgi up` with `make run`'s defaults, its files under `where` (the user's home too,
    unless given), its output in `where/up.log`; returned once it says it is running."""
    folder, output, home = where / "instance", where / "up.log", home or where / "home"
    home.mkdir(parents=True, exist_ok=True)
    where.mkdir(exist_ok=True)
    env = {name: value for name, value in os.environ.items() if name not in CONFIGURATION}
    env |= {"PHOTOGATE_INSTANCE_PATH": str(folder), "PORT": str(free_port()), "HOME": str(home)}
    env |= settings
    with output.open("wb") as log:
        process = subprocess.Popen(
            [*FLASK, "up"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    up = Up(f"http://127.0.0.1:{env['PORT']}", folder, env, process, output)
    wait_until(lambda: process.poll() is not None or "photogate is running on" in up.log(), 60, "photogate")
    assert process.poll() is None, up.log()
    return up


@pytest.fixture
def embedded(tmp_path):
    """`flask --app wsgi up` in a fresh instance folder, with a user; stopped with Ctrl-C."""
    up = start_up(tmp_path)
    yield up.base, up.flask("users", "create", "me@example.com"), up.folder, up.process
    up.stop()


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


def _upload(base: str, token: str, data: bytes, **fields: str) -> dict:
    """Upload a photo; the 202's body."""
    form = {"file": FileStorage(io.BytesIO(data), filename="a.jpg"), **fields}
    boundary, body = encode_multipart(form)
    return _api(base, token, "/api/photos/upload", body, f"multipart/form-data; boundary={boundary}")


def _processed(base: str, token: str, data: bytes) -> dict:
    """Upload a photo and wait for its verdict; its moderation."""
    accepted = _upload(base, token, data)
    return wait_for(
        lambda: (
            (m := _api(base, token, f"/api/photos/{accepted['session_id']}")["moderation"])["status"]
            != "pending"
            and m
        )
    )


def test_the_log_names_the_address_once_it_answers_and_reads_clean(tmp_path):
    up = start_up(tmp_path, WORKERS="1")
    with urllib.request.urlopen(up.base + "/healthz", timeout=2) as health:  # at once, no retry
        assert health.status == 200
    token = up.flask("users", "create", "me@example.com")
    accepted = _upload(up.base, token, image_bytes())
    wait_for(lambda: _api(up.base, token, f"/api/photos/{accepted['session_id']}")["status"] == "completed")
    session = f"/photos/{accepted['session_id']}"
    for _ in range(3):  # a photo card polling while its photo is processed, as htmx does
        _get(up.base + session + "/card", {"Authorization": f"Bearer {token}", "HX-Request": "true"})
    _get(up.base + session, {"Authorization": f"Bearer {token}"})  # a page opened
    faiss_loaded = any(_maps_faiss(pid) for pid in descendants(up.process.pid))

    assert up.stop() == 0
    log = up.log()
    assert f'"GET {session} HTTP/1.1" 200' in log
    assert f"{session}/card" not in log
    assert faiss_loaded  # and said nothing of the builds it could not load
    assert "swigfaiss" not in log and "Could not load library" not in log
    assert "Traceback" not in log and "ERROR" not in log  # not at start, not at Ctrl-C
    assert "Redis is starting" not in log  # Redis's banner and tuning advice are in its own log file


def test_two_instances_on_one_machine_keep_their_own_control_socket_and_address(tmp_path):
    home = tmp_path / "home"  # one user running both
    with StandIn(verifying_secret=REQUEST_SECRET) as vendor:
        settings = {
            "WORKERS": "1",
            "EXTERNAL_MODERATION_URL": vendor.url,
            "EXTERNAL_MODERATION_SECRET": REQUEST_SECRET,
            "MODERATION_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "ALLOW_PRIVATE_CALLBACKS": "true",  # the vendor stand-in listens on loopback
        }
        first = start_up(tmp_path / "first", home, **settings)
        second = start_up(tmp_path / "second", home, **settings)
        try:
            first_workers, second_workers = _gunicorn_workers(first), _gunicorn_workers(second)
            assert first_workers and second_workers and not first_workers & second_workers
            assert not (home / ".gunicorn").exists()

            token = second.flask("users", "create", "me@example.com")
            accepted = _upload(second.base, token, image_bytes(), provider="external")
            request = vendor.wait_for_requests(1)[0].body
            assert request["callback_url"] == second.base + "/api/webhooks/moderation"
            with urllib.request.urlopen(request["image_url"], timeout=10) as image:
                assert image.read()[:3] == b"\xff\xd8\xff"
            verdict = {"virtual_image_id": request["virtual_image_id"], "verdict": "approved"}
            assert call_back(request["callback_url"], WEBHOOK_SECRET, verdict)[0] == 200
            photo = _api(second.base, token, f"/api/photos/{accepted['session_id']}")
            assert (photo["moderation"]["status"], photo["moderation"]["source"]) == ("approved", "external")

            assert first.stop() == 0
            assert _gunicorn_workers(second) == second_workers  # its socket is still there, still its own
            with urllib.request.urlopen(second.base + "/healthz", timeout=2) as health:
                assert health.status == 200
        finally:
            first.stop()
            second.stop()


def _gunicorn_workers(up: Up) -> set[int]:
    """The pids of the web workers that the control socket in the instance's folder reports."""
    socket = up.folder / "gunicorn.ctl"
    assert stat.S_ISSOCK(socket.stat().st_mode)
    with ControlClient(str(socket), timeout=10) as client:
        workers = {worker["pid"] for worker in client.send_command("show workers")["workers"]}
    assert workers <= set(descendants(up.process.pid))
    return workers


def _maps_faiss(pid: int) -> bool:
    """Whether the process has faiss's library loaded."""
    try:
        return "swigfaiss" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def _get(url: str, headers: dict[str, str]) -> None:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
        assert response.status == 200
