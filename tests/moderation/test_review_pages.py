"""The review queue's server side: who may see it, its order, decisions one by one and in bulk, the audit."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from tests.support.pages import htmx_post, signed_in
from tests.support.reviews import image_state, reviews_of, waiting_photo
from webapp.extensions import db
from webapp.models import AuditEvent, ModerationStatus, User, VirtualImage
from webapp.services.moderation import appeals
from webapp.views.review import waited


def audit_lines(html: str) -> list[str]:
    """The photo page's review lines as text, their moments (checked to be there) shown as `TIME`."""
    lines = re.findall(r"<li data-review=[^>]*>(.*?)</li>", html, re.S)
    timed = (re.sub(r'<time datetime="[^"]+">[^<]+</time>', "TIME", line) for line in lines)
    return [" ".join(re.sub(r"<[^>]+>", " ", line).split()) for line in timed]


# Photos stay as the tests leave them: no worker listens to their queue.
pytestmark = pytest.mark.usefixtures("parked")


@pytest.fixture
def reviewer(client, admin):
    return signed_in(client, admin)


def test_the_queue_shows_flagged_images_first_then_failed_ones_oldest_first(app, reviewer, user):
    failed = waiting_photo(app, user, "failed.jpg", "error", labels=[], error="Not moderated: model crashed")
    older = waiting_photo(app, user, "older.jpg")
    newer = waiting_photo(app, user, "newer.jpg")
    waiting_photo(app, user, "fine.jpg", "approved", labels=[])

    response = reviewer.get("/review")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    positions = [html.index(f'id="review-{photo.virtual_image_id}"') for photo in (older, newer, failed)]
    assert positions == sorted(positions)
    assert "fine.jpg" not in html
    assert "<span data-mine>3</span> yours · <span data-waiting>0</span> waiting" in html
    assert "Explicit Nudity <strong>93%</strong>" in html
    assert "Exposed Male Genitalia <strong>61%</strong>" in html
    assert "Not moderated: model crashed" in html
    assert f'href="/photos/{older.session_id}"' in html
    assert 'data-status="flagged"' in html and 'data-status="error"' in html
    assert 'href="/review" aria-current="page">Review</a>' in html


def test_an_htmx_refresh_gets_only_the_queue(app, reviewer, user):
    waiting_photo(app, user, "a.jpg")

    response = reviewer.get("/review", headers={"HX-Request": "true"})

    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert '<div id="review-queue"' in html
    assert "HX-Request" in response.headers["Vary"]


def test_people_who_are_not_admins_cannot_review(app, client, user):
    photo = waiting_photo(app, user, "a.jpg")
    browser = signed_in(client, user)

    assert browser.get("/review").status_code == 403
    assert htmx_post(browser, f"/review/{photo.virtual_image_id}", {"verdict": "approved"}).status_code == 403
    bulk = {"ids": [str(photo.virtual_image_id)], "verdict": "approved"}
    assert htmx_post(browser, "/review/bulk", bulk).status_code == 403
    api = client.post(
        f"/api/virtual-images/{photo.virtual_image_id}/review",
        headers=user.headers,
        json={"verdict": "approved"},
    )
    assert api.status_code == 403
    assert image_state(app, photo.virtual_image_id).moderation_status == ModerationStatus.FLAGGED
    assert reviews_of(app, photo.virtual_image_id) == []
    assert 'href="/review"' not in browser.get("/upload").get_data(as_text=True)


def test_the_review_page_sends_people_who_are_not_logged_in_to_the_login_page(client):
    response = client.get("/review")

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_decision_answers_the_decided_card_and_is_recorded_for_the_audit(app, reviewer, admin, user):
    photo = waiting_photo(app, user, "a.jpg")

    response = htmx_post(
        reviewer, f"/review/{photo.virtual_image_id}", {"verdict": "rejected", "note": " nudity "}
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="review-{photo.virtual_image_id}" data-decided="rejected"' in html
    assert "undo is not possible" in html
    [review] = reviews_of(app, photo.virtual_image_id)
    assert (review.reviewer_email, review.verdict_before, review.verdict_after, review.note) == (
        admin.email,
        "flagged",
        "rejected",
        "nudity",
    )
    image = image_state(app, photo.virtual_image_id)
    assert (image.moderation_status, image.is_nsfw, image.source) == (
        ModerationStatus.REJECTED,
        True,
        "manual",
    )
    assert image.reviewed_by_id == admin.id
    assert "a.jpg" not in reviewer.get("/review").get_data(as_text=True)


def test_the_photo_page_shows_admins_who_decided_and_why_and_the_uploader_only_the_message(
    app, reviewer, client, user
):
    photo = waiting_photo(app, user, "a.jpg")
    decision = {"verdict": "rejected", "note": "second opinion: borderline", "message": "Please crop it."}
    htmx_post(reviewer, f"/review/{photo.virtual_image_id}", decision)
    htmx_post(reviewer, f"/review/{photo.virtual_image_id}", {"verdict": "approved", "note": ""})

    html = reviewer.get(f"/photos/{photo.session_id}").get_data(as_text=True)

    assert audit_lines(html) == [
        "admin@example.com changed flagged → rejected on TIME: second opinion: borderline "
        "Message to the uploader: Please crop it.",
        "admin@example.com changed rejected → approved on TIME",
    ]
    assert f'hx-post="/review/{photo.virtual_image_id}"' in html
    reviewer.post("/logout", headers=reviewer.csrf_headers)
    owner_view = signed_in(client, user).get(f"/photos/{photo.session_id}").get_data(as_text=True)
    assert audit_lines(owner_view) == [
        "Reviewed by a moderator on TIME: flagged → rejected Message from the moderator: Please crop it.",
        "Reviewed by a moderator on TIME: rejected → approved",
    ]
    assert "admin@example.com" not in owner_view and "borderline" not in owner_view
    assert 'hx-post="/review/' not in owner_view


def test_over_the_api_the_note_stays_internal_and_the_uploader_reads_the_message(app, client, admin, user):
    photo = waiting_photo(app, user, "a.jpg")
    decision = {"verdict": "rejected", "note": "second opinion: borderline", "message": "Please crop it."}

    answer = client.post(
        f"/api/virtual-images/{photo.virtual_image_id}/review", headers=admin.headers, json=decision
    )

    assert answer.status_code == 200
    recorded = answer.get_json()
    assert recorded["reviewed_at"]
    assert {name: recorded[name] for name in ("reviewer", "note", "message", "verdict_after")} == {
        "reviewer": "admin@example.com",
        "note": "second opinion: borderline",
        "message": "Please crop it.",
        "verdict_after": "rejected",
    }
    owners = client.get(f"/api/photos/{photo.session_id}", headers=user.headers)
    assert owners.get_json()["moderation"]["reviews"] == [recorded | {"reviewer": None, "note": None}]
    assert "admin@example.com" not in owners.get_data(as_text=True)
    assert "borderline" not in client.get("/api/photos", headers=user.headers).get_data(as_text=True)
    admins = client.get(f"/api/photos/{photo.session_id}", headers=admin.headers).get_json()
    assert admins["moderation"]["reviews"] == [recorded]


def test_bulk_decisions_record_each_image_and_answer_the_refreshed_queue(app, reviewer, user):
    first, second, kept = (waiting_photo(app, user, f"{name}.jpg") for name in ("first", "second", "kept"))
    ids = [str(first.virtual_image_id), str(second.virtual_image_id)]

    response = htmx_post(
        reviewer,
        "/review/bulk",
        {"ids": ids, "verdict": "approved", "note": "beach photos", "message": "Fine for the site."},
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and 'id="review-queue"' in html
    assert "<span data-mine>1</span> yours" in html
    assert f'id="review-{kept.virtual_image_id}"' in html
    assert "first.jpg" not in html and "second.jpg" not in html
    for photo in (first, second):
        [review] = reviews_of(app, photo.virtual_image_id)
        assert (review.verdict_after, review.note, review.message) == (
            "approved",
            "beach photos",
            "Fine for the site.",
        )
        assert image_state(app, photo.virtual_image_id).moderation_status == ModerationStatus.APPROVED


def test_an_unknown_verdict_is_refused_with_422_and_changes_nothing(app, reviewer, user):
    photo = waiting_photo(app, user, "a.jpg")

    response = htmx_post(reviewer, f"/review/{photo.virtual_image_id}", {"verdict": "maybe"})

    assert response.status_code == 422
    assert "The verdict must be &#39;approved&#39; or &#39;rejected&#39;." in response.get_data(as_text=True)
    assert image_state(app, photo.virtual_image_id).moderation_status == ModerationStatus.FLAGGED
    assert reviews_of(app, photo.virtual_image_id) == []


@pytest.mark.parametrize("image_id", [str(uuid.uuid4()), "not-an-id"])
def test_an_unknown_image_is_404(reviewer, image_id):
    response = htmx_post(reviewer, f"/review/{image_id}", {"verdict": "approved"})

    assert response.status_code == 404
    assert 'class="error-message" data-code="not_found"' in response.get_data(as_text=True)


def test_filenames_and_notes_are_escaped(app, reviewer, user):
    photo = waiting_photo(app, user, "<img src=x onerror=alert(1)>.jpg")

    queue = reviewer.get("/review").get_data(as_text=True)
    note = "<script>alert(2)</script>"
    card = htmx_post(reviewer, f"/review/{photo.virtual_image_id}", {"verdict": "approved", "note": note})
    gallery = reviewer.get(f"/photos/{photo.session_id}").get_data(as_text=True)

    assert "<img src=x onerror" not in queue
    assert "&lt;img src=x onerror=alert(1)&gt;.jpg" in queue
    for html in (card.get_data(as_text=True), gallery):
        assert "<script>alert(2)" not in html
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html


def test_a_bulk_decision_naming_an_unknown_image_changes_nothing(app, reviewer, user):
    photo = waiting_photo(app, user, "a.jpg")
    ids = [str(photo.virtual_image_id), str(uuid.uuid4())]

    response = htmx_post(reviewer, "/review/bulk", {"ids": ids, "verdict": "rejected"})

    assert response.status_code == 404
    assert image_state(app, photo.virtual_image_id).moderation_status == ModerationStatus.FLAGGED
    assert reviews_of(app, photo.virtual_image_id) == []


def test_an_htmx_request_after_the_login_expired_sends_the_page_to_the_login_form(client):
    response = client.get("/review", headers={"HX-Request": "true"})

    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/login?next=")


def waited_since(app, photo, seconds: float) -> None:
    """Make the photo as old as if it had been uploaded `seconds` ago."""
    moment = datetime.now(UTC) - timedelta(seconds=seconds)
    with app.app_context():
        db.session.execute(
            update(VirtualImage).where(VirtualImage.id == photo.virtual_image_id).values(created_at=moment)
        )
        db.session.commit()


def test_the_page_shows_only_your_claims_and_how_many_nobody_holds_since_when(
    app, client, moderator, user, monkeypatch
):
    monkeypatch.setattr("webapp.views.review.QUEUE_LENGTH", 2)
    photos = [waiting_photo(app, user, f"{n}.jpg") for n in range(3)]
    for photo, age in zip(photos, (1200, 900, 190), strict=True):
        waited_since(app, photo, age)

    html = signed_in(client, moderator).get("/review").get_data(as_text=True)

    assert (
        "<span data-mine>2</span> yours · <span data-waiting>1</span> waiting · "
        "<span data-oldest>oldest waits 3 min</span>" in html
    )
    assert "0.jpg" in html and "1.jpg" in html and "2.jpg" not in html
    until = image_state(app, photos[0].virtual_image_id).claimed_until
    assert f'Yours until <time datetime="{until.isoformat()}">{until:%H:%M} UTC</time>' in html


def test_the_page_counts_each_moderators_decisions_since_midnight(app, admin, moderator, user):
    photos = [waiting_photo(app, user, f"{n}.jpg") for n in range(3)]
    for person, photo in zip((moderator, moderator, admin), photos, strict=True):
        answer = app.test_client().post(
            f"/api/virtual-images/{photo.virtual_image_id}/review",
            headers=person.headers,
            json={"verdict": "approved"},
        )
        assert answer.status_code == 200
    with app.app_context():
        yesterday = datetime.now(UTC).replace(hour=0, minute=0) - timedelta(minutes=1)
        db.session.execute(update(AuditEvent).where(AuditEvent.actor_id == admin.id).values(at=yesterday))
        db.session.commit()
    waiting_photo(app, user, "next.jpg")
    htmx_post(
        signed_in(app.test_client(), admin), f"/review/{photos[0].virtual_image_id}", {"verdict": "rejected"}
    )

    html = signed_in(app.test_client(), moderator).get("/review").get_data(as_text=True)

    counts = re.findall(r'<li data-decisions="\d+">([^<]+) <strong>(\d+)</strong></li>', html)
    assert counts == [("moderator@example.com", "2"), ("admin@example.com", "1")]


def test_admins_have_a_tab_for_what_moderators_escalated_and_moderators_do_not(app, admin, moderator, user):
    photo = waiting_photo(app, user, "doubtful.jpg")
    page = signed_in(app.test_client(), moderator)
    assert "doubtful.jpg" in page.get("/review").get_data(as_text=True)

    escalated = htmx_post(page, f"/review/{photo.virtual_image_id}/escalate", {"note": "Looks like a minor?"})

    assert escalated.status_code == 204
    after = page.get("/review").get_data(as_text=True)
    assert "doubtful.jpg" not in after and "data-escalated-tab" not in after
    assert page.get("/review?queue=escalated").status_code == 403
    admins = signed_in(app.test_client(), admin)
    assert "data-escalated-tab>Escalated (1)</a>" in admins.get("/review").get_data(as_text=True)
    html = admins.get("/review?queue=escalated").get_data(as_text=True)
    assert f'id="review-{photo.virtual_image_id}"' in html and "data-escalated " in html
    shown = " ".join(
        re.sub(
            r"<[^>]+>", " ", re.search(r"<p class=\"review-escalation\"[^>]*>(.*?)</p>", html, re.S).group(1)
        ).split()
    )
    assert re.fullmatch(
        r"Escalated by moderator@example\.com on \d{4}-\d\d-\d\d \d\d:\d\d UTC : Looks like a minor\?", shown
    )
    assert "data-escalate " not in html
    assert 'hx-post="/review/bulk?queue=escalated"' in html


def test_an_appealed_photo_comes_marked_as_an_appeal_with_the_uploaders_message(app, admin, moderator, user):
    photo = waiting_photo(app, user, "painting.jpg")
    htmx_post(
        signed_in(app.test_client(), admin), f"/review/{photo.virtual_image_id}", {"verdict": "rejected"}
    )
    with app.app_context():
        appeals.appeal(db.session.get(User, user.id), photo.session_id, "It is a <b>painting</b>.")

    html = signed_in(app.test_client(), moderator).get("/review").get_data(as_text=True)

    card = re.search(rf'<article class="review-card" id="review-{photo.virtual_image_id}"[^>]*>', html).group(
        0
    )
    assert "data-appeal" in card and 'data-status="rejected"' in card
    assert '<span class="badge badge-appeal">appeal</span>' in html
    assert "appeals the verdict <strong>rejected</strong>" in html
    assert "<q>It is a &lt;b&gt;painting&lt;/b&gt;.</q>" in html


def test_a_released_card_goes_back_to_the_queue(app, moderator, user):
    photo = waiting_photo(app, user, "a.jpg")
    page = signed_in(app.test_client(), moderator)
    page.get("/review")

    released = htmx_post(page, f"/review/{photo.virtual_image_id}/release", {})

    assert released.status_code == 204
    image = image_state(app, photo.virtual_image_id)
    assert (image.claimed_by_id, image.claimed_until) == (None, None)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (None, None),
        (0, "under a minute"),
        (59, "under a minute"),
        (180, "3 min"),
        (3600, "1 h"),
        (3900, "1 h 5 min"),
        (86400, "1 day"),
        (3 * 86400 + 5, "3 days"),
    ],
)
def test_a_wait_reads_in_words(seconds, words):
    assert waited(seconds) == words
