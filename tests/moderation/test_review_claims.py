"""Review work shared by a team, through the real server: claims never collide (PostgreSQL and SQLite),
lapse, are renewed, released, taken over by an admin; escalation; appeals go to someone else."""

import os
import subprocess
import sys
import threading
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import requests
from flask_migrate import upgrade

from tests.support.factories import Person, make_user
from tests.support.pages import htmx_post, signed_in
from tests.support.processes import ROOT, stop
from tests.support.reviews import claim_lapses, claimed_until, image_state, reviews_of, waiting_photo
from webapp import create_app
from webapp.extensions import db
from webapp.models import ModerationStatus, Role, User
from webapp.services.moderation import appeals
from webapp.testing import servers

# Photos stay as the tests leave them: no worker listens to their queue.
pytestmark = pytest.mark.usefixtures("parked")

TEAM = 6


def call(base: str, person: Person, method: str, path: str, **options) -> requests.Response:
    return requests.request(method, base + path, headers=person.headers, timeout=30, **options)


def queue_ids(base: str, person: Person, **params) -> list[str]:
    """The images the server gives `person` when they ask for work."""
    answer = call(base, person, "GET", "/api/review/queue", params=params)
    assert answer.status_code == 200, answer.text
    return [item["virtual_image_id"] for item in answer.json()["items"]]


def asked_at_once(base: str, team: list[Person], limit: int) -> list[list[str]]:
    """Each member's answer when all of them ask for `limit` images at the same moment."""
    barrier = threading.Barrier(len(team), timeout=30)

    def ask(person: Person) -> list[str]:
        barrier.wait()
        return queue_ids(base, person, limit=limit)

    with ThreadPoolExecutor(len(team)) as pool:
        return list(pool.map(ask, team))


def assert_shared_without_collisions(base: str, team: list[Person], photos: list) -> None:
    every = {str(photo.virtual_image_id) for photo in photos}
    for limit in (3, 5):  # first fewer than wait (18 of 20), then more: each keeps what it held
        answers = asked_at_once(base, team, limit)
        given = [image_id for answer in answers for image_id in answer]
        assert len(given) == len(set(given)), "two moderators were given the same image"
        assert set(given) <= every
        assert len(given) == min(len(every), len(team) * limit)


@pytest.fixture
def team(app) -> list[Person]:
    return [make_user(app, f"moderator-{n}@example.com", role=Role.MODERATOR) for n in range(TEAM)]


@pytest.fixture
def first(team) -> Person:
    return team[0]


@pytest.fixture
def second(team) -> Person:
    return team[1]


def test_moderators_asking_at_once_on_postgresql_never_get_the_same_image(app, live_server, team, user):
    photos = [waiting_photo(app, user, f"photo-{n}.jpg") for n in range(20)]

    assert_shared_without_collisions(live_server, team, photos)


@contextmanager
def gunicorn(env: dict[str, str]) -> Iterator[str]:
    """photogate under gunicorn with `env`, threaded as `live_server` is; its address."""
    port = servers.free_port()
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--threads", "4"]
    process = subprocess.Popen(
        [*command, "--no-control-socket", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        servers.wait_until(lambda: urllib.request.urlopen(base + "/login", timeout=2), 30, "gunicorn")
        yield base
    finally:
        stop(process)


def moderator_from_the_command_line(env: dict[str, str], email: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "users", "create", email, "--role", "moderator"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_moderators_asking_at_once_on_sqlite_never_get_the_same_image(tmp_path, service_env):
    database_url = f"sqlite:///{tmp_path / 'review.db'}"
    embedded = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "QUEUE_NAME": "parked"})
    with embedded.app_context():
        upgrade()
    env = {**os.environ, **service_env, "DATABASE_URL": database_url}
    try:
        owner = make_user(embedded, "owner@example.com")
        photos = [waiting_photo(embedded, owner, f"photo-{n}.jpg") for n in range(20)]
        made = [moderator_from_the_command_line(env, f"moderator-{n}@example.com") for n in range(TEAM)]
        tokens = []
        for process in made:
            out, err = process.communicate(timeout=60)
            assert process.returncode == 0, err.decode()
            tokens.append(out.decode().strip().splitlines()[-1])
        team = [Person(uuid.uuid4(), f"moderator-{n}", "", token) for n, token in enumerate(tokens)]
        with gunicorn(env) as base:
            assert_shared_without_collisions(base, team, photos)
    finally:
        with embedded.app_context():
            db.engine.dispose()


def test_an_expired_claim_returns_to_the_pool(app, live_server, first, second, user):
    photo = waiting_photo(app, user, "a.jpg")
    image_id = str(photo.virtual_image_id)
    assert queue_ids(live_server, first) == [image_id]
    assert queue_ids(live_server, second) == []

    claim_lapses(app, photo.virtual_image_id, datetime.now(UTC) - timedelta(seconds=1))

    assert queue_ids(live_server, second) == [image_id]
    assert queue_ids(live_server, first) == []
    assert image_state(app, photo.virtual_image_id).claimed_by_id == second.id


def test_asking_again_and_the_pages_heartbeat_renew_a_claim(app, client, live_server, first, user):
    photo = waiting_photo(app, user, "a.jpg")
    queue_ids(live_server, first)
    soon = datetime.now(UTC) + timedelta(seconds=10)

    claim_lapses(app, photo.virtual_image_id, soon)
    [item] = call(live_server, first, "GET", "/api/review/queue").json()["items"]
    assert datetime.fromisoformat(item["claimed_until"]) > soon + timedelta(seconds=200)

    claim_lapses(app, photo.virtual_image_id, soon)
    page = signed_in(client, first)
    assert page.post("/review/renew", headers=page.csrf_headers).status_code == 204
    assert claimed_until(app, photo.virtual_image_id) > soon + timedelta(seconds=200)


def test_a_released_claim_goes_to_the_next_moderator_who_asks_not_back_to_who_let_it_go(
    app, live_server, first, second, user
):
    photo = waiting_photo(app, user, "a.jpg")
    queue_ids(live_server, first)

    released = call(live_server, first, "DELETE", f"/api/review/items/{photo.virtual_image_id}/claim")

    assert released.status_code == 204
    assert queue_ids(live_server, first) == []
    assert queue_ids(live_server, second) == [str(photo.virtual_image_id)]


def test_deciding_an_image_another_moderator_holds_is_409_over_the_api_and_on_the_page(
    app, client, live_server, first, second, user
):
    photo = waiting_photo(app, user, "a.jpg")
    queue_ids(live_server, first)
    decision = {"verdict": "approved"}

    over_the_api = call(
        live_server, second, "POST", f"/api/virtual-images/{photo.virtual_image_id}/review", json=decision
    )
    on_the_page = htmx_post(signed_in(client, second), f"/review/{photo.virtual_image_id}", decision)

    assert over_the_api.status_code == 409
    assert over_the_api.json()["error"]["code"] == "claimed_by_another"
    assert on_the_page.status_code == 409
    assert "Another moderator holds this image" in on_the_page.get_data(as_text=True)
    assert image_state(app, photo.virtual_image_id).moderation_status == ModerationStatus.FLAGGED
    assert reviews_of(app, photo.virtual_image_id) == []
    decided = call(
        live_server, first, "POST", f"/api/virtual-images/{photo.virtual_image_id}/review", json=decision
    )
    assert decided.status_code == 200


def test_an_admin_takes_over_a_claim_and_a_moderator_may_not(app, live_server, admin, first, second, user):
    photo = waiting_photo(app, user, "a.jpg")
    queue_ids(live_server, first)
    claim = f"/api/review/items/{photo.virtual_image_id}/claim"

    asked = call(live_server, second, "POST", claim)
    seized = call(live_server, second, "POST", claim, json={"take_over": True})
    taken = call(live_server, admin, "POST", claim, json={"take_over": True})

    assert (asked.status_code, asked.json()["error"]["code"]) == (409, "claimed_by_another")
    assert seized.status_code == 403
    assert taken.status_code == 200
    assert taken.json()["virtual_image_id"] == str(photo.virtual_image_id)
    assert datetime.fromisoformat(taken.json()["claimed_until"]) > datetime.now(UTC)
    assert image_state(app, photo.virtual_image_id).claimed_by_id == admin.id
    assert queue_ids(live_server, first) == []
    refused = call(
        live_server,
        first,
        "POST",
        f"/api/virtual-images/{photo.virtual_image_id}/review",
        json={"verdict": "approved"},
    )
    assert refused.status_code == 409


def test_an_escalated_image_waits_in_the_admins_queue_and_only_an_admin_decides_it(
    app, live_server, admin, first, second, user
):
    photo = waiting_photo(app, user, "a.jpg")
    queue_ids(live_server, first)
    review = f"/api/virtual-images/{photo.virtual_image_id}/review"

    escalated = call(
        live_server,
        first,
        "POST",
        f"/api/review/items/{photo.virtual_image_id}/escalate",
        json={"note": "CSAM?"},
    )

    item = escalated.json()
    assert escalated.status_code == 200
    assert item["escalation"]["note"] == "CSAM?" and item["escalation"]["at"]
    assert item["claimed_until"] is None
    assert queue_ids(live_server, second) == []
    assert (
        call(live_server, second, "GET", "/api/review/queue", params={"queue": "escalated"}).status_code
        == 403
    )
    refused = call(live_server, second, "POST", review, json={"verdict": "rejected"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "escalated")
    claimed = call(live_server, second, "POST", f"/api/review/items/{photo.virtual_image_id}/claim")
    assert (claimed.status_code, claimed.json()["error"]["code"]) == (403, "escalated")
    admins = call(live_server, admin, "GET", "/api/review/queue", params={"queue": "escalated"}).json()
    assert [item["virtual_image_id"] for item in admins["items"]] == [str(photo.virtual_image_id)]
    assert admins["items"][0]["escalation"]["note"] == "CSAM?"
    assert call(live_server, admin, "POST", review, json={"verdict": "rejected"}).status_code == 200
    assert image_state(app, photo.virtual_image_id).moderation_status == ModerationStatus.REJECTED


def appeal(app, owner: Person, session_id, message: str) -> None:
    with app.app_context():
        appeals.appeal(db.session.get(User, owner.id), session_id, message)


def test_an_appeal_never_goes_to_the_moderator_whose_decision_it_appeals(
    app, live_server, first, second, user
):
    photo = waiting_photo(app, user, "a.jpg")
    queue_ids(live_server, first)
    review = f"/api/virtual-images/{photo.virtual_image_id}/review"
    assert call(live_server, first, "POST", review, json={"verdict": "rejected"}).status_code == 200

    appeal(app, user, photo.session_id, "It is a painting.")

    assert queue_ids(live_server, first) == []
    claimed = call(live_server, first, "POST", f"/api/review/items/{photo.virtual_image_id}/claim")
    assert (claimed.status_code, claimed.json()["error"]["code"]) == (409, "same_reviewer")
    [item] = call(live_server, second, "GET", "/api/review/queue").json()["items"]
    assert item["virtual_image_id"] == str(photo.virtual_image_id)
    assert item["appeal"] == {
        "message": "It is a painting.",
        "created_at": item["appeal"]["created_at"],
        "verdict_appealed": "rejected",
    }
    assert call(live_server, second, "POST", review, json={"verdict": "approved"}).status_code == 200


def test_the_queue_refuses_what_it_does_not_read_and_people_who_do_not_moderate(
    app, live_server, first, user
):
    photo = waiting_photo(app, user, "a.jpg")

    for params in ({"limit": 0}, {"limit": 101}, {"limit": "ten"}, {"queue": "everything"}):
        answer = call(live_server, first, "GET", "/api/review/queue", params=params)
        assert (answer.status_code, answer.json()["error"]["code"]) == (400, "invalid_parameter"), params
    unknown = call(live_server, first, "POST", f"/api/review/items/{uuid.uuid4()}/claim")
    assert unknown.status_code == 404
    call(
        live_server,
        first,
        "POST",
        f"/api/virtual-images/{photo.virtual_image_id}/review",
        json={"verdict": "approved"},
    )
    decided = call(live_server, first, "POST", f"/api/review/items/{photo.virtual_image_id}/claim")
    assert (decided.status_code, decided.json()["error"]["code"]) == (409, "not_waiting")
    assert call(live_server, user, "GET", "/api/review/queue").status_code == 403


def claimed_at_once(team: list[Person], claim) -> Counter:
    """How the claims of one image by every member at the same moment were answered."""
    barrier = threading.Barrier(len(team), timeout=30)

    def attempt(person: Person) -> int:
        barrier.wait()
        return claim(person)

    with ThreadPoolExecutor(len(team)) as pool:
        return Counter(pool.map(attempt, team))


def test_one_image_claimed_by_several_at_once_on_postgresql_goes_to_one(app, live_server, team, user):
    photo = waiting_photo(app, user, "a.jpg")
    path = f"/api/review/items/{photo.virtual_image_id}/claim"

    answers = claimed_at_once(team, lambda person: call(live_server, person, "POST", path).status_code)

    assert answers == Counter({200: 1, 409: len(team) - 1})


def test_one_image_claimed_by_several_at_once_on_sqlite_goes_to_one(tmp_path):
    embedded = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'claims.db'}",
            "QUEUE_NAME": "parked",
        }
    )
    with embedded.app_context():
        upgrade()
    try:
        photo = waiting_photo(embedded, make_user(embedded, "owner@example.com"), "a.jpg")
        team = [make_user(embedded, f"moderator-{n}@example.com", role=Role.MODERATOR) for n in range(TEAM)]
        path = f"/api/review/items/{photo.virtual_image_id}/claim"

        answers = claimed_at_once(
            team, lambda person: embedded.test_client().post(path, headers=person.headers).status_code
        )

        assert answers == Counter({200: 1, 409: len(team) - 1})
    finally:
        with embedded.app_context():
            db.engine.dispose()
