"""The review queue's server side: who may see it, its order, decisions one by one and in bulk, the audit."""

import re
import uuid

import pytest

from tests.support.pages import htmx_post, signed_in
from tests.support.reviews import image_state, reviews_of, waiting_photo
from webapp.models import ModerationStatus


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
    assert re.search(r"<span data-waiting>3</span> waiting", html)
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
    assert '<div id="review-queue">' in html
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
    assert "<span data-waiting>1</span> waiting" in html
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
