"""Hash banks: an image people judged is recognised when it comes back, near-copies included, and the
same bytes are never sent to a provider twice."""

import io
import time
import uuid

import pytest
import requests
from botocore.stub import ANY, Stubber
from PIL import Image, ImageEnhance
from sqlalchemy import func, select, text

from tests.support.environment import WEBHOOK_SECRET
from tests.support.factories import (
    encoded,
    image_bytes,
    make_user,
    scene,
    wait_for,
    wait_until_terminal,
)
from tests.support.pages import signed_in
from tests.support.standin import call_back
from webapp.extensions import db
from webapp.imaging import make_derivatives
from webapp.models import BankEntry, Role, User, VirtualImage
from webapp.services.banks import bank_index, banks, hash_lists, hash_matching
from webapp.services.moderation import bulk_moderation
from webapp.services.photos import processing

REVIEW_BANK = "Rejected in review"
SUGGESTIVE = [{"Name": "Explicit", "ParentName": "", "Confidence": 62.0, "TaxonomyLevel": 1}]  # flagged
EXPLICIT = [{"Name": "Explicit", "ParentName": "", "Confidence": 93.1, "TaxonomyLevel": 1}]


def cropped(im: Image.Image, share: float = 0.05) -> Image.Image:
    left, top = round(im.width * share), round(im.height * share)
    return im.crop((left, top, im.width - left, im.height - top))


COPIES = {
    "resized-50": lambda im: encoded(im.resize((im.width // 2, im.height // 2)), "JPEG", quality=90),
    "jpeg-q50": lambda im: encoded(im, "JPEG", quality=50),
    "cropped-5-each-side": lambda im: encoded(cropped(im), "JPEG", quality=90),
    "brighter": lambda im: encoded(ImageEnhance.Brightness(im).enhance(1.2), "JPEG", quality=90),
}


def answers(stubber: Stubber, labels: list[dict]) -> None:
    stubber.add_response(
        "detect_moderation_labels",
        {"ModerationLabels": labels, "ModerationModelVersion": "7.0"},
        {"Image": ANY, "MinConfidence": ANY},
    )


def upload_for(client, person, data: bytes, provider: str) -> str:
    response = client.post(
        "/api/photos/upload",
        headers=person.headers,
        data={"file": (io.BytesIO(data), "photo.jpg"), "provider": provider},
        content_type="multipart/form-data",
    )
    assert response.status_code == 202, response.get_json()
    return response.get_json()["session_id"]


def processed(app, client, person, data: bytes, provider: str = "rekognition") -> dict:
    """Upload a photo for `provider` and run its job here; its moderation as the API shows it."""
    session_id = upload_for(client, person, data, provider)
    with app.app_context():
        processing.process_session(uuid.UUID(session_id))
    return moderation(client, person, session_id)


def new_bank(client, admin, name: str, action: str = "reject") -> dict:
    response = client.post("/api/banks", headers=admin.headers, json={"name": name, "action": action})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def bank_photo(client, admin, bank: dict, data: bytes) -> dict:
    """Add the PDQ hash of a photo to a bank by hand, as its hash would come from another list."""
    pdq_hash = make_derivatives(data).fingerprint.pdq
    response = client.post(
        f"/api/banks/{bank['id']}/entries", headers=admin.headers, json={"pdq_hash": pdq_hash}
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def moderation(client, person, session_id: str) -> dict:
    return client.get(f"/api/photos/{session_id}", headers=person.headers).get_json()["moderation"]


def review(client, admin, virtual_image_id: str, verdict: str) -> None:
    response = client.post(
        f"/api/virtual-images/{virtual_image_id}/review", headers=admin.headers, json={"verdict": verdict}
    )
    assert response.status_code == 200, response.get_json()


def bank_entries(app) -> list[BankEntry]:
    with app.app_context():
        rows = list(db.session.scalars(select(BankEntry)))
        db.session.expunge_all()
        return rows


def test_near_copies_of_an_image_rejected_in_review_are_rejected_without_asking_rekognition(
    app, client, user, admin, parked, rekognition
):
    original = scene(21)
    answers(rekognition, SUGGESTIVE)
    first = processed(app, client, user, encoded(original, "JPEG", quality=90))
    assert first["status"] == "flagged"

    review(client, admin, first["virtual_image_id"], "rejected")

    (entry,) = bank_entries(app)
    assert (entry.origin.value, entry.origin_image_id) == ("review", uuid.UUID(first["virtual_image_id"]))
    for name, copy in COPIES.items():
        decided = processed(app, client, admin, copy(original))
        assert (decided["status"], decided["source"]) == ("rejected", "hash_match"), name
        assert decided["labels"][0]["Name"] == f"Matched bank {REVIEW_BANK}"
        assert decided["match"]["bank"] == REVIEW_BANK
        assert decided["match"]["entry_id"] == str(entry.id)
        assert decided["match"]["origin_image_id"] == first["virtual_image_id"]
        assert 0 <= decided["match"]["distance"] <= 31
    # Pictures that only look alike in kind are asked about: these are Rekognition's only other calls.
    for seed in (22, 23):
        answers(rekognition, [])
        unrelated = processed(app, client, user, encoded(scene(seed), "JPEG", quality=90))
        assert (unrelated["status"], unrelated["source"]) == ("approved", "rekognition")


def test_the_owners_same_bytes_again_reuse_the_verdict_and_a_persons_decision_carries_over(
    app, client, user, other_user, admin, parked, rekognition
):
    data = encoded(scene(31), "JPEG", quality=85)
    answers(rekognition, EXPLICIT)
    first = processed(app, client, user, data)
    assert first["status"] == "rejected"

    again = processed(app, client, user, data)

    assert (again["status"], again["source"], again["duplicate_of"]) == (
        "rejected",
        "duplicate_of",
        first["virtual_image_id"],
    )
    assert again["labels"] == EXPLICIT
    # Another user's copy is asked about like any new photo: reusing a verdict would tell them it was here.
    answers(rekognition, [])
    theirs = processed(app, client, other_user, data)
    assert (theirs["status"], theirs["source"], theirs["duplicate_of"]) == ("approved", "rekognition", None)

    review(client, admin, first["virtual_image_id"], "approved")
    after_review = processed(app, client, user, data)

    assert (after_review["status"], after_review["duplicate_of"]) == ("approved", first["virtual_image_id"])


def test_an_uploader_learns_only_that_a_photo_matched_a_known_image_and_an_admin_sees_the_bank(
    app, client, user, admin, parked
):
    original = scene(121)
    entry = bank_photo(client, admin, new_bank(client, admin, "Partner list"), encoded(original, "JPEG"))
    job = client.post(
        "/api/bulk-nsfw/upload",
        headers=user.headers,
        data={"files": [(io.BytesIO(COPIES["brighter"](original)), "copy.jpg")], "provider": "rekognition"},
        content_type="multipart/form-data",
    ).get_json()
    session_id = job["images"][0]["session_id"]
    with app.app_context():
        processing.process_session(uuid.UUID(session_id))

    mine = moderation(client, user, session_id)
    assert (mine["status"], mine["source"], mine["match"]) == ("rejected", "hash_match", None)
    assert mine["labels"] == [
        {"Name": "Matched a known image", "ParentName": "", "Confidence": 100.0, "TaxonomyLevel": 1}
    ]
    browser = signed_in(app.test_client(), user)
    photo_page = browser.get(f"/photos/{session_id}").get_data(as_text=True)
    assert "Matched a known image, so it was rejected without asking a provider." in photo_page
    seen_by_uploader = [
        client.get(f"/api/photos/{session_id}", headers=user.headers),
        client.get("/api/photos", headers=user.headers),
        client.get(f"/api/bulk-nsfw/{job['job_id']}/status", headers=user.headers),
        browser.get(f"/photos/{session_id}"),
        browser.get(f"/jobs/{job['job_id']}"),
        browser.get("/photos"),
    ]
    for answer in seen_by_uploader:
        text = answer.get_data(as_text=True)
        assert answer.status_code == 200
        assert "Partner list" not in text and entry["id"] not in text and "distance" not in text
    admins = moderation(client, admin, session_id)
    assert admins["labels"][0]["Name"] == "Matched bank Partner list"
    assert (admins["match"]["bank"], admins["match"]["entry_id"]) == ("Partner list", entry["id"])
    admin_page = signed_in(app.test_client(), admin).get(f"/photos/{session_id}").get_data(as_text=True)
    assert "Matched bank <strong>Partner list</strong> at distance" in admin_page
    assert f'data-entry><code class="pdq-hash">{entry["pdq_hash"]}</code>' in admin_page


def test_a_persons_approval_of_the_same_bytes_outranks_a_bank_match(
    app, client, user, admin, parked, rekognition
):
    data = encoded(scene(41), "JPEG", quality=85)
    answers(rekognition, SUGGESTIVE)
    first = processed(app, client, user, data)
    review(client, admin, first["virtual_image_id"], "approved")
    bank_photo(client, admin, new_bank(client, admin, "List"), data)

    again = processed(app, client, user, data)

    assert (again["status"], again["source"]) == ("approved", "duplicate_of")


def test_approving_an_image_takes_its_rejection_out_of_the_bank(
    app, client, user, admin, parked, rekognition
):
    answers(rekognition, SUGGESTIVE)
    first = processed(app, client, user, encoded(scene(51), "JPEG", quality=90))
    review(client, admin, first["virtual_image_id"], "rejected")
    assert len(bank_entries(app)) == 1

    review(client, admin, first["virtual_image_id"], "approved")

    assert bank_entries(app) == []
    answers(rekognition, [])
    copy = processed(app, client, user, COPIES["jpeg-q50"](scene(51)))
    assert copy["source"] == "rekognition"


def test_flat_images_are_neither_banked_nor_matched(app, client, user, admin, parked, rekognition):
    answers(rekognition, SUGGESTIVE)
    flat = processed(app, client, user, image_bytes(color="navy"))
    assert flat["pdq_quality"] < 50

    review(client, admin, flat["virtual_image_id"], "rejected")

    assert bank_entries(app) == []
    with app.app_context():
        assert hash_matching.find_match(flat["pdq_hash"], flat["pdq_quality"]) is None


def test_a_bank_with_no_provider_call_decides_the_external_services_images_too(
    app, client, user, admin, vendor
):
    bank_photo(
        client, admin, new_bank(client, admin, "Known", "flag"), encoded(scene(61), "JPEG", quality=90)
    )

    photo = upload_for(client, user, COPIES["resized-50"](scene(61)), "external")

    decided = wait_for(lambda: decided_moderation(client, admin, photo), timeout=60)
    assert (decided["status"], decided["source"], decided["match"]["bank"]) == (
        "flagged",
        "hash_match",
        "Known",
    )
    with app.app_context():
        assert (
            db.session.get(VirtualImage, uuid.UUID(decided["virtual_image_id"])).external_requested_at is None
        )
    assert vendor.received == []


def decided_moderation(client, person, session_id: str) -> dict | None:
    found = moderation(client, person, session_id)
    return found if found["status"] != "pending" else None


def test_the_external_services_verdict_is_reused_for_the_same_bytes_without_a_second_request(
    app, client, user, vendor
):
    data = encoded(scene(71), "JPEG", quality=90)
    first = upload_for(client, user, data, "external")
    request = vendor.wait_for_requests(1)[0]
    verdict = {
        "virtual_image_id": request.body["virtual_image_id"],
        "verdict": "rejected",
        "labels": EXPLICIT,
    }
    assert call_back(request.body["callback_url"], WEBHOOK_SECRET, verdict)[0] == 200

    again = upload_for(client, user, data, "external")

    decided = wait_for(lambda: decided_moderation(client, user, again), timeout=60)
    assert (decided["status"], decided["source"]) == ("rejected", "duplicate_of")
    assert decided["duplicate_of"] == moderation(client, user, first)["virtual_image_id"]
    assert len(vendor.received) == 1


def test_bank_changes_reach_a_running_worker_at_once(app, client, user, admin, worker):
    original = scene(81)
    bank = new_bank(client, admin, "Known")
    entry = bank_photo(client, admin, bank, encoded(original, "JPEG", quality=90))

    def verdict_of_a_fresh_copy(quality: int) -> tuple[dict, float]:
        started = time.monotonic()
        session_id = upload_for(client, user, encoded(original, "JPEG", quality=quality), "local")
        assert wait_until_terminal(app, session_id) == "completed"
        return moderation(client, admin, session_id), time.monotonic() - started

    added, _ = verdict_of_a_fresh_copy(60)
    assert (added["status"], added["source"]) == ("rejected", "hash_match")

    switched_off = f"/api/banks/{bank['id']}/entries/{entry['id']}"
    assert client.patch(switched_off, headers=admin.headers, json={"enabled": False}).status_code == 200
    disabled, seconds = verdict_of_a_fresh_copy(61)
    assert disabled["source"] != "hash_match"
    assert seconds < 5

    client.patch(switched_off, headers=admin.headers, json={"enabled": True})
    assert (
        client.patch(f"/api/banks/{bank['id']}", headers=admin.headers, json={"enabled": False}).status_code
        == 200
    )
    bank_off, _ = verdict_of_a_fresh_copy(62)
    assert bank_off["source"] != "hash_match"

    client.patch(f"/api/banks/{bank['id']}", headers=admin.headers, json={"enabled": True, "action": "flag"})
    flagged, _ = verdict_of_a_fresh_copy(63)
    assert (flagged["status"], flagged["source"]) == ("flagged", "hash_match")


HASHES = [f"{digit}" * 64 for digit in "0123456789abcdef"]


def test_a_hash_list_imports_whole_and_exports_the_same_way(client, admin):
    bank = new_bank(client, admin, "Shared", "reject")
    listing = f'pdq,note\n{HASHES[1]}\n\n{HASHES[2].upper()},"from a partner, batch 7"\n{HASHES[3]},\n'

    imported = client.post(
        f"/api/banks/{bank['id']}/import", headers=admin.headers, data=listing, content_type="text/csv"
    )
    again = client.post(
        f"/api/banks/{bank['id']}/import",
        headers=admin.headers,
        data={"file": (io.BytesIO(listing.encode()), "hashes.csv")},
        content_type="multipart/form-data",
    )

    assert imported.get_json() == {"added": 3, "already_present": 0}
    assert again.get_json() == {"added": 0, "already_present": 3}
    exported = client.get(f"/api/banks/{bank['id']}/export", headers=admin.headers)
    assert exported.headers["Content-Type"].startswith("text/csv")
    assert exported.get_data(as_text=True) == (
        f'{HASHES[1]}\n{HASHES[2]},"from a partner, batch 7"\n{HASHES[3]}\n'
    )
    copy = new_bank(client, admin, "Copy", "flag")
    client.post(
        f"/api/banks/{copy['id']}/import",
        headers=admin.headers,
        data=exported.get_data(),
        content_type="text/csv",
    )
    assert (
        client.get(f"/api/banks/{copy['id']}/export", headers=admin.headers).get_data() == exported.get_data()
    )


def test_a_hash_list_with_malformed_lines_names_each_and_changes_nothing(client, admin):
    bank = new_bank(client, admin, "Shared", "reject")
    listing = f"{HASHES[1]}\n{HASHES[2]}\nnot-a-hash\n{HASHES[3][:-1]}\n{HASHES[4]},note,extra\n{HASHES[5]}\n"

    answer = client.post(
        f"/api/banks/{bank['id']}/import", headers=admin.headers, data=listing, content_type="text/plain"
    )

    assert answer.status_code == 422
    error = answer.get_json()["error"]
    assert error["code"] == "invalid_hash_list"
    assert [(line["line"], line["content"]) for line in error["lines"]] == [
        (3, "not-a-hash"),
        (4, HASHES[3][:-1]),
        (5, f"{HASHES[4]},note,extra"),
    ]
    assert "line 3" in error["message"]
    assert client.get(f"/api/banks/{bank['id']}", headers=admin.headers).get_json()["entries"] == 0


def import_through_the_server(live_server: str, admin, bank: dict, listing: str) -> requests.Response:
    return requests.post(
        f"{live_server}/api/banks/{bank['id']}/import",
        headers=admin.headers | {"Content-Type": "text/csv"},
        data=listing.encode(),
        timeout=60,
    )


@pytest.mark.parametrize(
    ("note", "error", "content"),
    [
        (
            "n" * 131_073,
            "longer than 16,384 bytes: a note has at most 2,000 characters",
            f"{HASHES[2]},{'n' * 14}…",
        ),
        ("n" * 2_001, "a note of 2,001 characters (at most 2,000)", f"{HASHES[2]},{'n' * 14}…"),
        (
            "seen\ron a forum",
            "a control character (U+000D): lines end in LF or CRLF, and neither a hash nor a note has one",
            f"{HASHES[2]},seen\\x0don a f…",
        ),
    ],
    ids=["131073-character note", "2001-character note", "bare CR in a note"],
)
def test_a_note_too_long_or_with_a_bare_cr_is_a_named_line_through_the_server(
    live_server, client, admin, note, error, content
):
    bank = new_bank(client, admin, "Shared")
    listing = f"{HASHES[1]}\n{HASHES[2]},{note}\r\n{HASHES[3]},fine\r\n"

    answer = import_through_the_server(live_server, admin, bank, listing)

    assert answer.status_code == 422
    assert answer.json()["error"] | {"message": ""} == {
        "code": "invalid_hash_list",
        "message": "",
        "lines": [{"line": 2, "error": error, "content": content}],
        "malformed_lines": 1,
    }
    assert client.get(f"/api/banks/{bank['id']}", headers=admin.headers).get_json()["entries"] == 0


def test_a_quote_left_open_is_its_own_malformed_line_and_never_swallows_the_next(client, admin):
    bank = new_bank(client, admin, "Shared")
    listing = f'{HASHES[1]},"left open\n{HASHES[2]}\n{HASHES[3]},"a ""quoted"" note"\n'

    answer = client.post(
        f"/api/banks/{bank['id']}/import", headers=admin.headers, data=listing, content_type="text/csv"
    )
    mended = client.post(
        f"/api/banks/{bank['id']}/import",
        headers=admin.headers,
        data=listing.replace('"left open', '"left open"'),
        content_type="text/csv",
    )

    assert answer.status_code == 422
    assert answer.get_json()["error"]["lines"] == [
        {
            "line": 1,
            "error": "a quote is not closed, or a closing quote is not followed by a comma",
            "content": f'{HASHES[1]},"left open',
        }
    ]
    assert mended.get_json() == {"added": 3, "already_present": 0}
    exported = client.get(f"/api/banks/{bank['id']}/export", headers=admin.headers).get_data(as_text=True)
    assert exported.splitlines() == [
        f"{HASHES[1]},left open",
        HASHES[2],
        f'{HASHES[3]},"a ""quoted"" note"',
    ]


def test_a_list_of_garbage_is_answered_in_a_few_kilobytes_that_count_every_line(live_server, client, admin):
    bank = new_bank(client, admin, "Shared")
    listing = "not a hash\n" * 200_000

    answer = import_through_the_server(live_server, admin, bank, listing)

    assert answer.status_code == 422
    assert len(answer.content) < 16_000
    error = answer.json()["error"]
    assert error["malformed_lines"] == 200_000
    assert [line["line"] for line in error["lines"]] == list(range(1, 101))
    assert error["message"].startswith("Nothing was imported: 200,000 malformed line(s). line 1: ")
    assert error["message"].endswith("(and 199,990 more)")


def test_an_export_defuses_notes_a_spreadsheet_would_run_and_an_import_restores_them(client, admin):
    bank = new_bank(client, admin, "Shared")
    notes = [
        '=HYPERLINK("http://evil.example","click")',
        "+1 from a partner",
        "-2",
        "@SUM(A1)",
        "'=quoted by hand",
        "'just a quote",
        "plain, with a comma",
    ]
    for pdq_hash, note in zip(HASHES[1:], notes, strict=False):
        added = {"pdq_hash": pdq_hash, "note": note}
        client.post(f"/api/banks/{bank['id']}/entries", headers=admin.headers, json=added)
    broken = client.post(
        f"/api/banks/{bank['id']}/entries",
        headers=admin.headers,
        json={"pdq_hash": HASHES[8], "note": "seen\r\non a\tforum"},
    )

    exported = client.get(f"/api/banks/{bank['id']}/export", headers=admin.headers).get_data()
    copy = new_bank(client, admin, "Copy")
    imported = client.post(
        f"/api/banks/{copy['id']}/import", headers=admin.headers, data=exported, content_type="text/csv"
    )

    assert broken.get_json()["note"] == "seen  on a forum"
    assert exported.decode().splitlines() == [
        f'{HASHES[1]},"\'=HYPERLINK(""http://evil.example"",""click"")"',
        f"{HASHES[2]},'+1 from a partner",
        f"{HASHES[3]},'-2",
        f"{HASHES[4]},'@SUM(A1)",
        f"{HASHES[5]},''=quoted by hand",
        f"{HASHES[6]},'just a quote",
        f'{HASHES[7]},"plain, with a comma"',
        f"{HASHES[8]},seen  on a forum",
    ]
    assert imported.get_json() == {"added": 8, "already_present": 0}
    entries = client.get(f"/api/banks/{copy['id']}/entries", headers=admin.headers).get_json()["entries"]
    assert {entry["pdq_hash"]: entry["note"] for entry in entries} == dict(
        zip(HASHES[1:9], [*notes, "seen  on a forum"], strict=True)
    )


def test_bank_operations_are_for_admins_and_check_their_input(client, user, admin):
    assert client.get("/api/banks", headers=user.headers).status_code == 403
    assert (
        client.post("/api/banks", headers=user.headers, json={"name": "x", "action": "reject"}).status_code
        == 403
    )
    bank = new_bank(client, admin, "Known", "reject")
    assert (bank["distance"], bank["enabled"], bank["entries"]) == (31, True, 0)

    duplicate = client.post("/api/banks", headers=admin.headers, json={"name": "Known", "action": "flag"})
    bad_action = client.post("/api/banks", headers=admin.headers, json={"name": "B", "action": "delete"})
    too_far = client.patch(f"/api/banks/{bank['id']}", headers=admin.headers, json={"distance": 200})
    bad_hash = client.post(
        f"/api/banks/{bank['id']}/entries", headers=admin.headers, json={"pdq_hash": "abc"}
    )
    empty_import = client.post(
        f"/api/banks/{bank['id']}/import", headers=admin.headers, data="", content_type="text/plain"
    )

    assert (duplicate.status_code, duplicate.get_json()["error"]["code"]) == (409, "bank_exists")
    assert (bad_action.status_code, bad_action.get_json()["error"]["code"]) == (422, "invalid_bank")
    assert (too_far.status_code, too_far.get_json()["error"]["code"]) == (422, "invalid_field")
    assert (bad_hash.status_code, bad_hash.get_json()["error"]["code"]) == (422, "invalid_pdq_hash")
    assert (empty_import.status_code, empty_import.get_json()["error"]["code"]) == (400, "missing_hash_list")
    assert client.get(f"/api/banks/{uuid.uuid4()}", headers=admin.headers).status_code == 404


def test_a_moderator_reads_banks_and_adds_hashes_over_the_api_but_changes_nothing_else(app, client, admin):
    moderator = make_user(app, "moderator@example.com", role=Role.MODERATOR).headers
    bank = new_bank(client, admin, "Known", "reject")
    path = f"/api/banks/{bank['id']}"
    entry = client.post(f"{path}/entries", headers=admin.headers, json={"pdq_hash": HASHES[0]}).get_json()

    assert [found["name"] for found in client.get("/api/banks", headers=moderator).get_json()["banks"]] == [
        "Known"
    ]
    assert client.get(path, headers=moderator).get_json()["entries"] == 1
    added = client.post(
        f"{path}/entries", headers=moderator, json={"pdq_hash": HASHES[1], "note": "reviewed"}
    )
    assert (added.status_code, added.get_json()["added_by"]) == (201, "moderator@example.com")
    assert client.get(f"{path}/entries", headers=moderator).get_json()["total"] == 2
    assert client.get(f"{path}/export", headers=moderator).status_code == 200

    refused = [
        client.post("/api/banks", headers=moderator, json={"name": "Mine", "action": "flag"}),
        client.patch(path, headers=moderator, json={"enabled": False}),
        client.patch(f"{path}/entries/{entry['id']}", headers=moderator, json={"enabled": False}),
        client.post(f"{path}/import", headers=moderator, data=HASHES[2], content_type="text/plain"),
    ]
    assert [(answer.status_code, answer.get_json()["error"]["code"]) for answer in refused] == [
        (403, "forbidden")
    ] * 4
    after = client.get(path, headers=admin.headers).get_json()
    assert (after["enabled"], after["entries"], after["enabled_entries"]) == (True, 2, 2)


def test_matches_and_lookups_are_measured(app, client, user, admin, parked, rekognition):
    answers(rekognition, SUGGESTIVE)
    first = processed(app, client, user, encoded(scene(91), "JPEG", quality=90))
    review(client, admin, first["virtual_image_id"], "rejected")
    processed(app, client, user, COPIES["brighter"](scene(91)))

    scraped = client.get("/metrics").get_data(as_text=True)

    assert f'photogate_hash_matches{{bank="{REVIEW_BANK}"}} 1.0' in scraped
    assert "photogate_hash_lookup_duration_seconds_count 2.0" in scraped


def test_the_index_starts_over_when_the_bank_tables_are_emptied(app, admin):
    with app.app_context():
        owner = db.session.get(User, admin.id)
        bank = banks.create_bank("Known", "reject")
        hash_lists.import_hashes(bank, io.BytesIO(HASHES[1].encode()), owner)
        assert bank_index.current().candidates(HASHES[1])

        db.session.execute(text("TRUNCATE hash_bank_entries, hash_banks, hash_bank_revision CASCADE"))
        db.session.commit()
        bank = banks.create_bank("Known again", "reject")
        hash_lists.import_hashes(bank, io.BytesIO(HASHES[2].encode()), owner)

        index = bank_index.current()
        assert not index.candidates(HASHES[1])
        assert index.candidates(HASHES[2])
        assert db.session.scalar(select(func.count()).select_from(BankEntry)) == 1


def test_a_job_whose_photos_were_all_judged_before_ends_without_a_bulk_analysis(
    app, client, user, admin, parked, rekognition
):
    known, repeated = encoded(scene(101), "JPEG", quality=90), encoded(scene(102), "JPEG", quality=90)
    bank_photo(client, admin, new_bank(client, admin, "Known"), known)
    answers(rekognition, EXPLICIT)
    processed(app, client, user, repeated)
    files = [(io.BytesIO(COPIES["resized-50"](scene(101))), "copy.jpg"), (io.BytesIO(repeated), "again.jpg")]

    body = client.post(
        "/api/bulk-nsfw/upload",
        headers=user.headers,
        data={"files": files, "provider": "rekognition_bulk"},
        content_type="multipart/form-data",
    ).get_json()
    with app.app_context():
        for image in body["images"]:
            processing.process_session(uuid.UUID(image["session_id"]))
        bulk_moderation.start_analysis(uuid.UUID(body["job_id"]))

    # The stubbed Rekognition has no answer queued: starting an analysis would have raised.
    status = client.get(f"/api/bulk-nsfw/{body['job_id']}/status", headers=user.headers).get_json()
    assert (status["status"], status["rejected"], status["pending"]) == ("completed", 2, 0)
    assert sorted(image["moderation_status"] for image in status["images"]) == ["rejected", "rejected"]


def test_images_rejected_before_banks_existed_join_the_review_bank_by_command(
    app, client, user, admin, parked, rekognition
):
    answers(rekognition, SUGGESTIVE)
    rejected = processed(app, client, user, encoded(scene(111), "JPEG", quality=90))
    answers(rekognition, SUGGESTIVE)
    approved = processed(app, client, user, encoded(scene(112), "JPEG", quality=90))
    with app.app_context():
        # What a review did before hash banks: a person's verdict, and no bank entry.
        for moderated, verdict in ((rejected, "rejected"), (approved, "approved")):
            image = db.session.get(VirtualImage, uuid.UUID(moderated["virtual_image_id"]))
            image.moderation_status, image.source, image.reviewed_by_id = verdict, "manual", admin.id
        db.session.commit()
    runner = app.test_cli_runner()

    first, again = (runner.invoke(args=["banks", "add-rejected"]) for _ in range(2))

    assert "Added 1 hash(es); 0 were in the bank already." in first.output
    assert "Added 0 hash(es); 0 were in the bank already." in again.output
    (entry,) = bank_entries(app)
    assert (entry.origin_image_id, entry.added_by_email) == (
        uuid.UUID(rejected["virtual_image_id"]),
        "admin@example.com",
    )
    copy = processed(app, client, user, COPIES["cropped-5-each-side"](scene(111)))
    assert (copy["status"], copy["source"]) == ("rejected", "hash_match")


def test_control_characters_never_reach_the_database(client, admin):
    bank = new_bank(client, admin, "Shared")

    named = client.post("/api/banks", headers=admin.headers, json={"name": "a\u0000b", "action": "flag"})
    binary = client.post(
        f"/api/banks/{bank['id']}/import",
        headers=admin.headers,
        data=f"{HASHES[1]}\n\0\n",
        content_type="text/csv",
    )
    noted = client.post(
        f"/api/banks/{bank['id']}/entries",
        headers=admin.headers,
        json={"pdq_hash": HASHES[2], "note": "a\u0000b"},
    )

    assert (named.status_code, named.get_json()["error"]["code"]) == (422, "invalid_bank")
    assert binary.get_json()["error"]["lines"] == [
        {"line": 2, "error": "a NUL character: this is not a text file", "content": "\\x00"}
    ]
    assert (noted.status_code, noted.get_json()["note"]) == (201, "ab")
