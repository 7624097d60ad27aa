"""Appeals from the uploader's side: appealing once, what cannot be appealed, who may decide it, and the
outcome the uploader reads (never who decided) through the API and the photo page."""

import re
import uuid

import pytest
import requests

from tests.support.factories import Person, make_user
from tests.support.pages import htmx_post, signed_in
from tests.support.reviews import image_state, waiting_photo
from webapp.extensions import db
from webapp.models import Appeal, ModerationStatus, Role, User
from webapp.services.moderation import claims

# Photos stay as the tests leave them: no worker listens to their queue.
pytestmark = pytest.mark.usefixtures("parked")


@pytest.fixture
def first(app) -> Person:
    return make_user(app, "first-moderator@example.com", role=Role.MODERATOR)


@pytest.fixture
def second(app) -> Person:
    return make_user(app, "second-moderator@example.com", role=Role.MODERATOR)


def decide(client, moderator: Person, photo, verdict: str, **words):
    return client.post(
        f"/api/virtual-images/{photo.virtual_image_id}/review",
        headers=moderator.headers,
        json={"verdict": verdict, **words},
    )


def appeal(client, owner: Person, photo, message="It is a painting, not a person."):
    return client.post(
        f"/api/photos/{photo.session_id}/appeal", headers=owner.headers, json={"message": message}
    )


def rejected_by(app, client, moderator: Person, owner: Person):
    """A flagged photo of `owner` that `moderator` rejected."""
    photo = waiting_photo(app, owner, "beach.jpg")
    assert (
        decide(client, moderator, photo, "rejected", message="Nudity is not allowed here.").status_code == 200
    )
    return photo


def work_of(app, moderator: Person) -> list[str]:
    """The images the queue hands `moderator` (through the claims service, as /review does)."""
    with app.app_context():
        work = claims.take_work(db.session.get(User, moderator.id), 10)
        return [str(item.virtual_image.id) for item in work.items if item.appeal is not None]


def appeal_of(client, person: Person, photo) -> dict | None:
    answer = client.get(f"/api/photos/{photo.session_id}", headers=person.headers)
    assert answer.status_code == 200
    return answer.get_json()["moderation"]["appeal"]


def test_an_uploader_appeals_once_and_the_appeal_waits_for_another_moderator(
    app, client, user, first, second
):
    photo = rejected_by(app, client, first, user)

    answer = appeal(client, user, photo, "  It is a painting, not a person.  ")

    assert answer.status_code == 201
    filed = answer.get_json()
    assert filed == {
        "status": "pending",
        "message": "It is a painting, not a person.",
        "created_at": filed["created_at"],
        "decided_at": None,
        "reply": None,
    }
    assert appeal_of(client, user, photo) == filed
    again = appeal(client, user, photo, "Please?")
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "already_appealed")
    assert work_of(app, first) == []
    assert work_of(app, second) == [str(photo.virtual_image_id)]
    assert image_state(app, photo.virtual_image_id).moderation_status == ModerationStatus.REJECTED


def test_a_machine_flagged_photo_is_appealed_too_and_anyone_may_decide_it(app, client, user, first):
    photo = waiting_photo(app, user, "flagged.jpg")

    assert appeal(client, user, photo).status_code == 201

    assert work_of(app, first) == [str(photo.virtual_image_id)]
    assert decide(client, first, photo, "approved").status_code == 200
    assert appeal_of(client, user, photo)["status"] == "overturned"


@pytest.mark.parametrize("status", ["approved", "pending", "error"])
def test_only_a_flagged_or_rejected_photo_is_appealed(app, client, user, status):
    photo = waiting_photo(app, user, "a.jpg", status, labels=[])

    answer = appeal(client, user, photo)

    assert (answer.status_code, answer.get_json()["error"]["code"]) == (409, "not_appealable")
    assert appeal_of(client, user, photo) is None


@pytest.mark.parametrize("message", ["", "   ", None, 42, ["why"], "x" * 2001])
def test_an_appeal_needs_a_message(app, client, user, message):
    photo = waiting_photo(app, user, "a.jpg")

    answer = appeal(client, user, photo, message)

    assert (answer.status_code, answer.get_json()["error"]["code"]) == (422, "invalid_message")
    assert appeal_of(client, user, photo) is None


def test_nobody_appeals_another_ones_photo_not_even_those_who_may_see_it(
    app, client, user, other_user, first, admin
):
    photo = waiting_photo(app, user, "a.jpg")

    for person in (other_user, first, admin):
        answer = appeal(client, person, photo)
        assert (answer.status_code, answer.get_json()["error"]["code"]) == (404, "not_found"), person.email
    for unknown in (uuid.uuid4(), "not-an-id"):
        answer = client.post(f"/api/photos/{unknown}/appeal", headers=user.headers, json={"message": "hi"})
        assert answer.status_code == 404
    assert client.post(f"/api/photos/{photo.session_id}/appeal", json={"message": "hi"}).status_code == 401
    assert appeal_of(client, user, photo) is None


def test_the_moderator_whose_decision_is_appealed_gets_409_on_the_real_server(
    app, live_server, user, first, second
):
    photo = waiting_photo(app, user, "beach.jpg")
    review = f"{live_server}/api/virtual-images/{photo.virtual_image_id}/review"
    decided = requests.post(review, headers=first.headers, json={"verdict": "rejected"}, timeout=30)
    assert decided.status_code == 200
    appealed = requests.post(
        f"{live_server}/api/photos/{photo.session_id}/appeal",
        headers=user.headers,
        json={"message": "Look again, please."},
        timeout=30,
    )
    assert appealed.status_code == 201

    again = requests.post(review, headers=first.headers, json={"verdict": "rejected"}, timeout=30)

    assert (again.status_code, again.json()["error"]["code"]) == (409, "same_reviewer")
    with app.app_context():
        assert db.session.query(Appeal).one().decided_at is None
    other = requests.post(review, headers=second.headers, json={"verdict": "rejected"}, timeout=30)
    assert other.status_code == 200


@pytest.mark.parametrize(("verdict", "outcome"), [("rejected", "upheld"), ("approved", "overturned")])
def test_another_moderator_decides_and_the_uploader_reads_the_outcome_never_who(
    app, client, user, first, second, admin, verdict, outcome
):
    photo = rejected_by(app, client, first, user)
    appeal(client, user, photo)

    decided = decide(
        client, second, photo, verdict, note="checked the EXIF", message="Thanks for explaining."
    )

    assert decided.status_code == 200
    seen = appeal_of(client, user, photo)
    assert seen == {
        "status": outcome,
        "message": "It is a painting, not a person.",
        "created_at": seen["created_at"],
        "decided_at": seen["decided_at"],
        "reply": "Thanks for explaining.",
    }
    assert seen["decided_at"] >= seen["created_at"]
    photo_json = client.get(f"/api/photos/{photo.session_id}", headers=user.headers).get_data(as_text=True)
    assert second.email not in photo_json and first.email not in photo_json
    for moderator in (first, admin):
        assert appeal_of(client, moderator, photo)["decided_by"] == second.email
    assert image_state(app, photo.virtual_image_id).moderation_status == ModerationStatus(verdict)


def test_the_decision_on_an_appeal_is_final(app, client, user, first, second, admin):
    photo = rejected_by(app, client, first, user)
    appeal(client, user, photo)
    assert decide(client, second, photo, "approved").status_code == 200

    for moderator in (first, second, admin):
        again = decide(client, moderator, photo, "rejected")
        assert again.status_code == 409
        assert again.get_json()["error"]["code"] == "appeal_decided"
    assert image_state(app, photo.virtual_image_id).moderation_status == ModerationStatus.APPROVED
    assert appeal_of(client, user, photo)["status"] == "overturned"


def appeal_part(html: str) -> str:
    """The photo page's appeal part, as text."""
    part = re.search(r'<div class="appeal" id="appeal"[^>]*>(.*?)\n</div>', html, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", part.group(1)).split()) if part else ""


def test_the_owner_of_a_flagged_photo_appeals_from_its_page(app, client, user):
    photo = waiting_photo(app, user, "a.jpg")
    browser = signed_in(client, user)
    page = browser.get(f"/photos/{photo.session_id}").get_data(as_text=True)
    assert f'hx-post="/photos/{photo.session_id}/appeal"' in page
    assert "Appeal this decision" in page

    refused = htmx_post(browser, f"/photos/{photo.session_id}/appeal", {"message": "  "})

    assert refused.status_code == 422
    assert 'role="alert">Say why the photo should be looked at again' in refused.get_data(as_text=True)
    answer = htmx_post(browser, f"/photos/{photo.session_id}/appeal", {"message": "A statue <b>museum</b>."})
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert "<html" not in html and 'data-appeal="pending"' in html
    assert "You appealed on" in appeal_part(html) and "a moderator will look at it again." in appeal_part(
        html
    )
    assert "A statue &lt;b&gt;museum&lt;/b&gt;." in html
    again = htmx_post(browser, f"/photos/{photo.session_id}/appeal", {"message": "Again"})
    assert again.status_code == 409 and "You appealed on" in appeal_part(again.get_data(as_text=True))


def test_without_scripts_the_form_posts_and_comes_back_to_the_page(app, client, user):
    photo = waiting_photo(app, user, "a.jpg", "rejected")
    browser = signed_in(client, user)

    answer = browser.post(
        f"/photos/{photo.session_id}/appeal", data={"message": "Why?"}, headers=browser.csrf_headers
    )

    assert answer.status_code == 303 and answer.headers["Location"] == f"/photos/{photo.session_id}"
    assert "You appealed on" in appeal_part(browser.get(answer.headers["Location"]).get_data(as_text=True))


def test_the_page_offers_no_appeal_to_others_nor_for_an_approved_photo(app, client, user, first):
    flagged = waiting_photo(app, user, "flagged.jpg")
    approved = waiting_photo(app, user, "fine.jpg", "approved", labels=[])

    owner = signed_in(client, user)
    assert "Appeal this decision" not in owner.get(f"/photos/{approved.session_id}").get_data(as_text=True)
    moderator = signed_in(app.test_client(), first)
    assert "Appeal this decision" not in moderator.get(f"/photos/{flagged.session_id}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("verdict", "outcome", "now"),
    [("rejected", "upheld", "rejected"), ("approved", "overturned", "approved")],
)
def test_the_page_tells_the_uploader_the_outcome_and_the_moderators_who_decided(
    app, client, user, first, second, verdict, outcome, now
):
    photo = rejected_by(app, client, first, user)
    appeal(client, user, photo, "It is a painting.")
    decide(client, second, photo, verdict, message="We looked again.")

    owner_page = signed_in(client, user).get(f"/photos/{photo.session_id}").get_data(as_text=True)
    moderator_page = (
        signed_in(app.test_client(), first).get(f"/photos/{photo.session_id}").get_data(as_text=True)
    )

    seen = appeal_part(owner_page)
    assert re.search(
        rf"Your appeal was {outcome} on \d{{4}}-\d\d-\d\d \d\d:\d\d UTC : the photo is now {now} \.", seen
    )
    assert "Message from the moderator: We looked again." in seen
    assert "Your message" in seen and "It is a painting." in seen
    assert second.email not in owner_page and first.email not in owner_page
    assert "Appeal this decision" not in owner_page
    told = appeal_part(moderator_page)
    assert f"The uploader's appeal was {outcome} on" in told and f"by {second.email}" in told
    assert "Message to the uploader: We looked again." in told
