"""Each user's own signing secret (issue 18): their events verify with it alone; it rotates with a grace
period on the page and over the API; the operator's receiver keeps the server's secret."""

import io
import re
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.support.environment import NOTIFICATION_SECRET
from tests.support.factories import Person, image_bytes
from tests.support.jobs import wait_for_job
from tests.support.pages import login, signed_in
from tests.support.standin import Received, StandIn
from webapp.extensions import db
from webapp.models import User
from webapp.services.jobs import notifications

PASSWORD = "a long password"


def signing_secret(client, person: Person) -> dict:
    answer = client.get("/api/account/signing-secret", headers=person.headers)
    assert answer.status_code == 200, answer.get_json()
    assert answer.headers["Cache-Control"] == "no-store"
    return answer.get_json()


def rotate(client, person: Person) -> dict:
    answer = client.post("/api/account/signing-secret/rotate", headers=person.headers)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def job_event(client, person: Person, receiver: StandIn) -> Received:
    """The job.completed event of a new one-photo job of `person`'s, as `receiver` got it."""
    before = len(receiver.received)
    form = {"files": [(io.BytesIO(image_bytes()), "a.jpg")], "callback_url": receiver.url}
    answer = client.post(
        "/api/bulk-nsfw/upload", headers=person.headers, data=form, content_type="multipart/form-data"
    )
    assert answer.status_code == 202, answer.get_json()
    wait_for_job(client, person.headers, answer.get_json()["job_id"])
    return receiver.wait_for_requests(before + 1, timeout=30)[before]


def test_an_event_verifies_with_its_owners_secret_and_no_other_users(client, user, other_user, worker):
    theirs, mine = signing_secret(client, other_user)["secret"], signing_secret(client, user)["secret"]
    assert theirs.startswith("whsec_") and mine.startswith("whsec_") and theirs != mine

    with StandIn(verifying_secret=theirs) as their_receiver:
        event = job_event(client, other_user, their_receiver)

    assert event.signature_valid
    assert not event.verifies_with(mine)
    assert not event.verifies_with(NOTIFICATION_SECRET)


def test_after_a_rotation_events_carry_both_signatures_until_the_grace_period_ends(
    app, client, user, worker, monkeypatch
):
    old = signing_secret(client, user)["secret"]
    rotated = rotate(client, user)
    new = rotated["secret"]
    until = datetime.fromisoformat(rotated["previous_secret_valid_until"])
    assert new.startswith("whsec_") and new != old
    assert abs(until - (datetime.now(UTC) + timedelta(hours=24))) < timedelta(minutes=1)
    assert signing_secret(client, user) == rotated

    with StandIn(verifying_secret=new) as receiver:
        during_grace = job_event(client, user, receiver)
        monkeypatch.setitem(app.config, "NOTIFICATION_SECRET_GRACE", 1)
        newest = rotate(client, user)["secret"]
        time.sleep(1.5)
        receiver.verifying_secret = newest
        after_grace = job_event(client, user, receiver)

    assert len(during_grace.headers["webhook-signature"].split(" ")) == 2
    assert during_grace.verifies_with(old) and during_grace.verifies_with(new)
    assert len(after_grace.headers["webhook-signature"].split(" ")) == 1
    assert after_grace.verifies_with(newest) and not after_grace.verifies_with(new)
    assert signing_secret(client, user) == {"secret": newest, "previous_secret_valid_until": None}


def test_the_api_gives_and_rotates_only_your_own_secret(client, user, other_user):
    theirs = signing_secret(client, other_user)

    rotated = rotate(client, user)

    assert signing_secret(client, user)["secret"] == rotated["secret"]
    assert signing_secret(client, other_user) == theirs
    assert client.get("/api/account/signing-secret").status_code == 401
    assert client.post("/api/account/signing-secret/rotate").status_code == 401


def test_the_account_page_shows_your_own_secret_and_rotates_it(client, user, other_user):
    mine, theirs = signing_secret(client, user)["secret"], signing_secret(client, other_user)["secret"]
    browser = signed_in(client, user)

    response = browser.get("/account")
    page = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert f'id="signing-secret">{mine}<' in page
    assert theirs not in page and NOTIFICATION_SECRET not in page
    refused = browser.post("/account/signing-secret/rotate")  # no CSRF token
    assert refused.status_code == 400
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    rotated = browser.post(
        "/account/signing-secret/rotate", data={"csrf_token": token}, follow_redirects=True
    )

    page = rotated.get_data(as_text=True)
    new = signing_secret(client, user)["secret"]
    assert new != mine and f'id="signing-secret">{new}<' in page
    assert "New signing secret made." in page
    assert re.search(r"previous secret still signs your events too, until <time datetime=", page)
    assert signing_secret(client, other_user)["secret"] == theirs


def test_only_admins_see_the_secret_of_the_operators_receiver(app, client, user, admin, monkeypatch):
    monkeypatch.setitem(app.config, "JOB_CALLBACK_URL", "https://hooks.example.com/photogate")

    login(client, user.email, user.password)
    assert NOTIFICATION_SECRET not in client.get("/account").get_data(as_text=True)
    admins_browser = app.test_client()
    login(admins_browser, admin.email, admin.password)
    admin_page = admins_browser.get("/account").get_data(as_text=True)

    assert f'id="operator-secret">{NOTIFICATION_SECRET}<' in admin_page
    assert "https://hooks.example.com/photogate" in admin_page


def _page_csrf(client) -> str:
    page = client.get("/account").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_events_to_the_operators_receiver_are_signed_with_the_server_secret(
    app, client, user, parked, monkeypatch
):
    with StandIn(verifying_secret=NOTIFICATION_SECRET) as operator:
        monkeypatch.setitem(app.config, "JOB_CALLBACK_URL", operator.url)
        job = client.post("/api/bulk-nsfw/jobs", headers=user.headers, json={}).get_json()
        assert job["callback_url"] == operator.url
        with app.app_context():
            notifications.deliver(uuid.UUID(job["job_id"]), attempt=1, retries_left=0)
        event = operator.wait_for_requests(1)[0]

    assert event.signature_valid
    assert not event.verifies_with(signing_secret(client, user)["secret"])


def test_every_way_of_making_an_account_gives_it_a_secret_of_its_own(app, client):
    page = client.get("/setup").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    form = {"email": "first@example.com", "password": PASSWORD, "password_again": PASSWORD}
    client.post("/setup", data=form | {"csrf_token": token})
    made = client.post(
        "/admin/users",
        data={
            "email": "second@example.com",
            "password": PASSWORD,
            "role": "user",
            "csrf_token": _page_csrf(client),
        },
    )
    assert made.status_code == 303
    assert app.test_cli_runner().invoke(args=["users", "create", "third@example.com"]).exit_code == 0

    with app.app_context():
        secrets = db.session.scalars(select(User.signing_secret)).all()
    assert len(secrets) == len(set(secrets)) == 3
    assert all(secret.startswith("whsec_") for secret in secrets)
