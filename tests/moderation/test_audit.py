"""The audit log: an event for each kind of thing that happens to an image (machines' decisions, people's
work, appeals), read by admins through the API, the page and CSV, and by nobody else."""

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.factories import Person, encoded, image_bytes, make_user, scene, wait_until_terminal
from tests.support.pages import htmx_post, signed_in
from tests.support.reviews import waiting_photo
from webapp.extensions import db
from webapp.imaging import make_derivatives
from webapp.models import AuditEvent, AuditKind, Role, User
from webapp.providers import ModerationResult
from webapp.providers.rekognition_bulk import BulkOutcome
from webapp.services import verdicts
from webapp.services.moderation import bulk_moderation, claims
from webapp.services.photos import processing

EXPLICIT = [{"Name": "Explicit", "ParentName": "", "Confidence": 91.0, "TaxonomyLevel": 1}]


@pytest.fixture
def colleague(app) -> Person:
    return make_user(app, "colleague@example.com", role=Role.MODERATOR)


def log(client, admin: Person, **params) -> dict:
    answer = client.get("/api/audit", headers=admin.headers, query_string=params)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()


def events_of(client, admin: Person, image_id) -> list[tuple]:
    """The image's events, newest first, as (kind, actor, before, after, note)."""
    events = log(client, admin, virtual_image_id=str(image_id), per_page=200)["events"]
    return [(e["kind"], e["actor"], e["before"], e["after"], e["note"]) for e in events]


def upload(client, person: Person, data: bytes, provider: str = "local") -> dict:
    form = {"file": (io.BytesIO(data), "photo.jpg"), "provider": provider}
    photo = client.post("/api/photos/upload", headers=person.headers, data=form).get_json()
    assert wait_until_terminal(client.application, photo["session_id"]) == "completed"
    return photo


def test_a_providers_decision_in_the_worker_is_an_event_named_after_the_provider(
    app, client, user, admin, worker
):
    photo = upload(client, user, image_bytes())

    [event] = log(client, admin, virtual_image_id=photo["virtual_image_id"])["events"]

    assert (event["kind"], event["actor"], event["actor_id"]) == ("decision", "local", None)
    assert (event["before"], event["after"]) == ("pending", "approved")
    assert event["virtual_image_id"] == photo["virtual_image_id"]


def test_a_bank_match_is_an_event_of_the_hash_match_naming_the_bank(app, client, user, admin, worker):
    original = scene(31)
    bank = client.post(
        "/api/banks", headers=admin.headers, json={"name": "Walk", "action": "reject"}
    ).get_json()
    pdq_hash = make_derivatives(encoded(original, "JPEG")).fingerprint.pdq
    client.post(f"/api/banks/{bank['id']}/entries", headers=admin.headers, json={"pdq_hash": pdq_hash})

    photo = upload(client, user, encoded(original, "JPEG", quality=60))

    [(kind, actor, before, after, note)] = events_of(client, admin, photo["virtual_image_id"])
    assert (kind, actor, before, after) == ("decision", "hash_match", "pending", "rejected")
    assert note.startswith("bank Walk (reject, distance ")


@pytest.mark.usefixtures("parked")
def test_an_error_names_the_provider_that_failed_or_the_system(app, client, user, admin):
    throttled = waiting_photo(app, user, "a.jpg", "pending", labels=[])
    broken = waiting_photo(app, user, "b.jpg", "pending", labels=[])

    with app.app_context():
        assert verdicts.record_error(throttled.virtual_image_id, "Not moderated: unsupported", "rekognition")
        processing.fail_session(broken.session_id, "the file could not be decoded")
        # Written once: a second outcome for a decided image is not an event either.
        assert not verdicts.record_error(throttled.virtual_image_id, "again", "rekognition")

    assert events_of(client, admin, throttled.virtual_image_id) == [
        ("decision", "rekognition", "pending", "error", "Not moderated: unsupported")
    ]
    assert events_of(client, admin, broken.virtual_image_id) == [
        ("decision", "system", "pending", "error", "Not moderated: the file could not be decoded")
    ]


def batch(client, owner: Person, count: int) -> tuple[str, list[str]]:
    """A bulk job of `count` photos, waiting on the test's queue: its id and its images'."""
    files = [(io.BytesIO(image_bytes("JPEG", (120, 90))), f"p{n}.jpg") for n in range(count)]
    body = client.post("/api/bulk-nsfw/upload", headers=owner.headers, data={"files": files}).get_json()
    return body["job_id"], [image["virtual_image_id"] for image in body["images"]]


@pytest.mark.usefixtures("parked")
def test_a_bulk_write_back_logs_each_image_in_its_one_statement(app, client, user, admin):
    job_id, (explicit, clean, corrupt) = batch(client, user, 3)
    outcome = BulkOutcome(
        results={
            uuid.UUID(explicit): ModerationResult(EXPLICIT, "7.0", "rekognition"),
            uuid.UUID(clean): ModerationResult([], "7.0", "rekognition"),
        },
        errors={uuid.UUID(corrupt): "INVALID_IMAGE: corrupt"},
    )

    with app.app_context():
        bulk_moderation.write_outcome(uuid.UUID(job_id), outcome)
        bulk_moderation.write_outcome(uuid.UUID(job_id), outcome)  # again: nothing is pending any more

    events = log(client, admin)["events"]
    by_image = {e["virtual_image_id"]: (e["actor"], e["before"], e["after"], e["note"]) for e in events}
    assert len(events) == 3
    assert by_image == {
        explicit: ("rekognition", "pending", "rejected", "Explicit 91%"),
        clean: ("rekognition", "pending", "approved", None),
        corrupt: ("rekognition_bulk", "pending", "error", "INVALID_IMAGE: corrupt"),
    }
    # One statement wrote them all, at the one moment of its transaction.
    assert len({e["at"] for e in events}) == 1


@pytest.mark.usefixtures("parked")
def test_a_cancelled_jobs_images_are_cancels_by_the_admin_who_cancelled_it(app, client, user, admin):
    job_id, images = batch(client, user, 2)

    assert htmx_post(signed_in(client, admin), f"/admin/jobs/{job_id}/cancel", {}).status_code == 200

    events = log(client, admin)["events"]
    assert sorted(e["virtual_image_id"] for e in events) == sorted(images)
    assert {(e["kind"], e["actor"], e["actor_id"], e["before"], e["after"], e["note"]) for e in events} == {
        ("cancel", admin.email, str(admin.id), "pending", "error", "The job was cancelled.")
    }


def as_user(person: Person) -> User:
    return db.session.get(User, person.id)


@pytest.mark.usefixtures("parked")
def test_peoples_work_on_an_image_and_its_appeal_are_events_in_order(
    app, client, user, moderator, colleague, admin
):
    photo = waiting_photo(app, user, "beach.jpg")
    image_id = photo.virtual_image_id
    with app.app_context():
        claims.claim(as_user(moderator), image_id)
        claims.release(as_user(moderator), image_id)
        claims.claim(as_user(moderator), image_id)
        claims.claim(as_user(admin), image_id, take_over=True)
        claims.release(as_user(admin), image_id)
        claims.escalate(as_user(colleague), image_id, "Looks like a minor?")
    review = f"/api/virtual-images/{image_id}/review"
    decided = client.post(
        review, headers=admin.headers, json={"verdict": "rejected", "note": "adult, but nude"}
    )
    assert decided.status_code == 200
    appeal = {"message": "It is a statue."}
    assert (
        client.post(f"/api/photos/{photo.session_id}/appeal", headers=user.headers, json=appeal).status_code
        == 201
    )
    assert client.post(review, headers=colleague.headers, json={"verdict": "approved"}).status_code == 200

    assert events_of(client, admin, image_id) == [
        ("appeal_decision", colleague.email, "rejected", "approved", None),
        ("appeal", user.email, "rejected", None, "It is a statue."),
        ("decision", admin.email, "flagged", "rejected", "adult, but nude"),
        ("escalation", colleague.email, None, None, "Looks like a minor?"),
        ("release", admin.email, None, None, None),
        ("takeover", admin.email, None, None, f"from {moderator.email}"),
        ("claim", moderator.email, None, None, None),
        ("release", moderator.email, None, None, None),
        ("claim", moderator.email, None, None, None),
    ]
    ids = {e["actor"]: e["actor_id"] for e in log(client, admin, virtual_image_id=str(image_id))["events"]}
    assert ids[moderator.email] == str(moderator.id) and ids[user.email] == str(user.id)


def seed(app, *events: tuple) -> None:
    """Events as the log would hold them: (minutes after 10:00 on 2026-12-04, kind, actor, note)."""
    start = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    with app.app_context():
        for minutes, kind, actor, note in events:
            db.session.add(
                AuditEvent(
                    at=start + timedelta(minutes=minutes),
                    kind=kind,
                    actor=actor,
                    virtual_image_id=uuid.UUID(int=minutes),
                    note=note,
                )
            )
        db.session.commit()


def notes(answer: dict) -> list[str]:
    return [event["note"] for event in answer["events"]]


def test_the_api_filters_by_image_actor_kind_and_time_newest_first(app, client, admin):
    seed(
        app,
        (0, AuditKind.DECISION, "local", "m0"),
        (10, AuditKind.CLAIM, "moderator@example.com", "m10"),
        (20, AuditKind.DECISION, "moderator@example.com", "m20"),
        (30, AuditKind.ESCALATION, "moderator@example.com", "m30"),
        (40, AuditKind.DECISION, "rekognition", "m40"),
    )

    assert notes(log(client, admin)) == ["m40", "m30", "m20", "m10", "m0"]
    assert notes(log(client, admin, virtual_image_id=str(uuid.UUID(int=20)))) == ["m20"]
    assert notes(log(client, admin, actor="Moderator@Example.com")) == ["m30", "m20", "m10"]
    assert notes(log(client, admin, actor="LOCAL")) == ["m0"]
    assert notes(log(client, admin, kind=["claim", "escalation"])) == ["m30", "m10"]
    assert notes(log(client, admin, since="2026-12-04T10:20:00Z", until="2026-12-04T10:40")) == ["m30", "m20"]
    assert notes(log(client, admin, since="2026-12-04T11:10+01:00")) == ["m40", "m30", "m20", "m10"]
    assert notes(log(client, admin, kind="decision", actor="moderator@example.com")) == ["m20"]
    assert log(client, admin, actor="nobody@example.com") == {
        "events": [],
        "page": 1,
        "per_page": 50,
        "total": 0,
    }


def test_the_api_pages_through_the_log(app, client, admin):
    seed(app, *((minute, AuditKind.CLAIM, "moderator@example.com", f"m{minute}") for minute in range(7)))

    first = log(client, admin, per_page=3)
    third = log(client, admin, per_page=3, page=3)

    assert (notes(first), first["total"], first["page"], first["per_page"]) == (["m6", "m5", "m4"], 7, 1, 3)
    assert notes(log(client, admin, per_page=3, page=2)) == ["m3", "m2", "m1"]
    assert (notes(third), third["total"]) == (["m0"], 7)
    assert notes(log(client, admin, per_page=3, page=4)) == []


@pytest.mark.parametrize(
    "params",
    [
        {"virtual_image_id": "not-an-id"},
        {"since": "yesterday"},
        {"until": "2026-13-01"},
        {"since": "0001-01-01T00:00:00+14:00"},
        {"kind": "everything"},
        {"actor": "x" * 321},
        {"actor": "tab\there"},
        {"page": "0"},
        {"per_page": "201"},
    ],
)
def test_the_api_names_a_filter_it_cannot_read(client, admin, params):
    answer = client.get("/api/audit", headers=admin.headers, query_string=params)

    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert error["code"] == "invalid_parameter" and f"'{next(iter(params))}'" in error["message"]


def test_nobody_but_admins_reads_the_log(app, client, user, moderator):
    seed(app, (0, AuditKind.CLAIM, moderator.email, "m0"))

    assert client.get("/api/audit").status_code == 401
    assert client.get("/admin/audit").status_code == 302
    assert client.get("/admin/audit.csv").status_code == 302
    for person in (user, moderator):
        assert client.get("/api/audit", headers=person.headers).status_code == 403
        browser = signed_in(app.test_client(), person)
        assert browser.get("/admin/audit").status_code == 403
        assert browser.get("/admin/audit.csv").status_code == 403
        assert 'href="/admin/audit"' not in browser.get("/upload").get_data(as_text=True)


def test_the_csv_export_keeps_the_filters_and_defuses_formulas(app, client, admin):
    seed(
        app,
        (0, AuditKind.ESCALATION, "moderator@example.com", '=HYPERLINK("http://evil.example","click")'),
        (1, AuditKind.ESCALATION, "moderator@example.com", "+1+2"),
        (2, AuditKind.ESCALATION, "moderator@example.com", "-3"),
        (3, AuditKind.ESCALATION, "moderator@example.com", "@SUM(A1)"),
        (4, AuditKind.ESCALATION, "moderator@example.com", "\tTAB"),
        (5, AuditKind.ESCALATION, "moderator@example.com", "\rCR"),
        (6, AuditKind.ESCALATION, "moderator@example.com", "a note, with a comma\nand a line"),
        (7, AuditKind.CLAIM, "moderator@example.com", "not escalated"),
    )
    browser = signed_in(client, admin)

    answer = browser.get("/admin/audit.csv", query_string={"kind": "escalation"})

    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    assert answer.headers["Content-Disposition"].startswith('attachment; filename="photogate-audit-')
    header, *rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert header == ["id", "at", "kind", "actor", "actor_id", "virtual_image_id", "before", "after", "note"]
    assert [row[8] for row in rows] == [
        "a note, with a comma\nand a line",
        "'\rCR",
        "'\tTAB",
        "'@SUM(A1)",
        "'-3",
        "'+1+2",
        """'=HYPERLINK("http://evil.example","click")""",
    ]
    assert rows[-1][1:6] == [
        "2026-12-04T10:00:00+00:00",
        "escalation",
        "moderator@example.com",
        "",
        str(uuid.UUID(int=0)),
    ]


def test_the_page_lists_filters_and_pages_the_log_with_a_csv_link(app, client, admin, moderator):
    seed(app, *((minute, AuditKind.CLAIM, moderator.email, f"note {minute}") for minute in range(55)))
    seed(app, (60, AuditKind.DECISION, "rekognition", "Explicit 91%"))
    browser = signed_in(client, admin)

    page = browser.get("/admin/audit").get_data(as_text=True)

    assert 'href="/admin/audit" aria-current="page">Audit</a>' in page
    assert page.count("<tr data-event=") == 50
    assert 'data-kind="decision"' in page and '<span class="machine"' in page and "Explicit 91%" in page
    assert "Page 1 of 2" in page and 'href="/admin/audit?page=2"' in page
    assert 'href="/admin/audit.csv"' in page
    filtered = browser.get("/admin/audit", query_string={"kind": "claim", "since": "2026-12-04T10:50"})
    html = filtered.get_data(as_text=True)
    assert html.count("<tr data-event=") == 5 and 'data-kind="decision"' not in html
    assert 'value="2026-12-04T10:50:00"' in html and '<option value="claim" selected>' in html
    assert 'href="/admin/audit.csv?kind=claim&amp;since=2026-12-04T10:50:00"' in html
    wrong = browser.get("/admin/audit", query_string={"since": "last tuesday"})
    assert wrong.status_code == 400
    text = wrong.get_data(as_text=True)
    assert "&#39;since&#39; must be a moment in ISO 8601" in text and 'value="last tuesday"' in text
    assert "<tr data-event=" not in text
