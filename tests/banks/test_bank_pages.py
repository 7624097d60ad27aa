"""The hash bank pages: who may see them, banks made and changed by form, entries, imports, exports,
and what photo pages and review cards say about an image a bank decided."""

import io
import re
import uuid

import pytest

from tests.support.factories import Person, make_user
from tests.support.pages import signed_in
from tests.support.reviews import waiting_photo
from webapp.extensions import db
from webapp.models import Bank, BankEntry, EntryOrigin, ModerationStatus, Role, User, VirtualImage
from webapp.services.banks import banks

HASH_A = "a" * 64
HASH_B = "0123456789abcdef" * 4
HASH_C = "f" * 60 + "0000"


# Photos stay as the tests leave them: no worker listens to their queue.
pytestmark = pytest.mark.usefixtures("parked")


@pytest.fixture
def admin_browser(client, admin):
    return signed_in(client, admin)


def make_bank(app, name: str = "Known bad", action: str = "reject") -> uuid.UUID:
    with app.app_context():
        return banks.create_bank(name, action).id


def add_hash(app, bank_id, person: Person, pdq_hash: str, note: str | None = None) -> uuid.UUID:
    with app.app_context():
        bank = banks.get_bank(bank_id)
        entry, _created = banks.add_entry(bank, pdq_hash, note, db.session.get(User, person.id))
        return entry.id


def bank_state(app, bank_id) -> tuple[Bank, list[BankEntry]]:
    with app.app_context():
        bank = banks.get_bank(bank_id)
        entries, _total = banks.entries(bank, 1, 100)
        db.session.expunge_all()
        return bank, entries


def post(browser, path: str, data: dict, **options):
    """A form post from one of the pages (its CSRF token sent as the header htmx would send)."""
    return browser.post(path, data=data, headers=browser.csrf_headers, **options)


def import_file(browser, bank_id, text: str, **options):
    data = {"file": (io.BytesIO(text.encode()), "hashes.csv")}
    return browser.post(
        f"/admin/banks/{bank_id}/import",
        data=data,
        headers=browser.csrf_headers,
        content_type="multipart/form-data",
        **options,
    )


def decided_by_bank(app, owner: Person, bank_id, entry_id, filename: str, distance: int = 12):
    """A photo a bank entry decided, as the worker's verdict path leaves it (no worker involved)."""
    with app.app_context():
        bank = banks.get_bank(bank_id)
        status = "rejected" if bank.action.value == "reject" else "flagged"
        label = {
            "Name": f"Matched bank {bank.name}",
            "ParentName": "",
            "Confidence": 95.3,
            "TaxonomyLevel": 1,
        }
        match = {
            "bank_id": str(bank.id),
            "bank": bank.name,
            "action": bank.action.value,
            "entry_id": str(entry_id),
            "distance": distance,
            "origin_image_id": None,
        }
    photo = waiting_photo(app, owner, filename, status, labels=[label])
    with app.app_context():
        image = db.session.get(VirtualImage, photo.virtual_image_id)
        image.source = "hash_match"
        image.rekognition_data = image.rekognition_data | {"HashMatch": match}
        image.matched_entry_id = entry_id
        db.session.commit()
    return photo


def test_banks_are_not_for_users(app, client, user, admin):
    bank_id = make_bank(app)
    entry_id = add_hash(app, bank_id, admin, HASH_A)
    pages = ("/admin/banks", f"/admin/banks/{bank_id}")

    for path in pages:
        anonymous = client.get(path)
        assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]

    browser = signed_in(client, user)
    for path in pages:
        assert browser.get(path).status_code == 403
    forms = {
        "/admin/banks": {"name": "Mine", "action": "reject"},
        f"/admin/banks/{bank_id}": {"name": "Renamed", "action": "flag", "distance": "3"},
        f"/admin/banks/{bank_id}/entries": {"pdq_hash": HASH_B},
        f"/admin/banks/{bank_id}/entries/{entry_id}": {"enabled": "false"},
    }
    for path, form in forms.items():
        assert post(browser, path, form).status_code == 403, path
    assert import_file(browser, bank_id, HASH_C).status_code == 403
    assert ">Banks</a>" not in browser.get("/upload").get_data(as_text=True)
    bank, entries = bank_state(app, bank_id)
    assert (bank.name, [entry.pdq_hash for entry in entries], entries[0].enabled) == (
        "Known bad",
        [HASH_A],
        True,
    )


def test_a_moderator_reads_banks_and_adds_a_hash_but_changes_nothing_else(app, client, admin):
    moderator = make_user(app, "moderator@example.com", role=Role.MODERATOR)
    bank_id = make_bank(app)
    entry_id = add_hash(app, bank_id, admin, HASH_A)
    browser = signed_in(client, moderator)

    listing = browser.get("/admin/banks").get_data(as_text=True)
    assert 'href="/admin/banks" aria-current="page">Banks</a>' in listing
    assert '<tr data-bank="Known bad">' in listing and "New bank" not in listing
    page = browser.get(f"/admin/banks/{bank_id}").get_data(as_text=True)
    assert HASH_A in page and 'id="bank-add-entry"' in page
    for admins_only in ('id="bank-settings"', 'id="bank-import"', "entry-toggle"):
        assert admins_only not in page
    added = post(browser, f"/admin/banks/{bank_id}/entries", {"pdq_hash": HASH_B, "note": "seen in review"})
    assert "Entry added." in browser.get(added.headers["Location"]).get_data(as_text=True)

    forms = {
        "/admin/banks": {"name": "Mine", "action": "reject"},
        f"/admin/banks/{bank_id}": {"name": "Renamed", "action": "flag", "distance": "3"},
        f"/admin/banks/{bank_id}/entries/{entry_id}": {"enabled": "false"},
    }
    for path, form in forms.items():
        assert post(browser, path, form).status_code == 403, path
    assert import_file(browser, bank_id, HASH_C).status_code == 403
    bank, entries = bank_state(app, bank_id)
    assert bank.name == "Known bad"
    assert {(entry.pdq_hash, entry.enabled, entry.added_by_email) for entry in entries} == {
        (HASH_A, True, admin.email),
        (HASH_B, True, moderator.email),
    }


def test_an_admin_creates_a_bank_through_the_form(app, admin_browser):
    listing = admin_browser.get("/admin/banks").get_data(as_text=True)
    assert "No banks yet." in listing
    assert 'href="/admin/banks" aria-current="page">Banks</a>' in listing
    assert "Images rejected in review join <strong>Rejected in review</strong>" in listing

    form = {"name": "Known bad", "action": "flag", "distance": "20", "enabled": "true"}
    created = post(admin_browser, "/admin/banks", form)

    assert created.status_code == 303
    bank_id = created.headers["Location"].rsplit("/", 1)[1]
    bank, _entries = bank_state(app, bank_id)
    assert (bank.name, bank.action.value, bank.distance, bank.enabled) == ("Known bad", "flag", 20, True)
    page = admin_browser.get(created.headers["Location"]).get_data(as_text=True)
    assert "Bank Known bad created." in page
    assert "flags what it matches" in page
    listing = admin_browser.get("/admin/banks").get_data(as_text=True)
    row = re.search(r'<tr data-bank="Known bad">(.*?)</tr>', listing, re.S).group(1)
    cells = [" ".join(cell.split()) for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
    assert cells[1:] == ["flag", "20", "yes", "0 enabled of 0", "0"]
    assert f'href="/admin/banks/{bank_id}"' in row


def test_a_bank_the_form_cannot_make_says_why_and_keeps_what_was_typed(app, admin_browser):
    make_bank(app, "Known bad")

    taken = post(admin_browser, "/admin/banks", {"name": "Known bad", "action": "reject", "distance": "31"})
    too_far = post(admin_browser, "/admin/banks", {"name": "Loose", "action": "reject", "distance": "60"})
    unnamed = post(admin_browser, "/admin/banks", {"name": "  ", "action": "reject", "distance": "31"})

    assert taken.status_code == 409
    assert "A bank with that name exists already." in taken.get_data(as_text=True)
    assert too_far.status_code == 400
    assert "&#39;distance&#39; must be a whole number from 0 to 52." in too_far.get_data(as_text=True)
    assert 'name="name" maxlength="100" required value="Loose"' in too_far.get_data(as_text=True)
    assert unnamed.status_code == 422
    assert "A bank&#39;s name is 1 to 100 characters." in unnamed.get_data(as_text=True)
    with app.app_context():
        assert [summary.bank.name for summary in banks.summaries()] == ["Known bad"]


def test_the_settings_form_changes_a_bank(app, admin_browser):
    bank_id = make_bank(app, "Known bad", "reject")
    make_bank(app, "Other", "flag")

    saved = post(
        admin_browser, f"/admin/banks/{bank_id}", {"name": "Partner list", "action": "flag", "distance": "0"}
    )
    assert saved.status_code == 303
    assert "Settings saved." in admin_browser.get(saved.headers["Location"]).get_data(as_text=True)

    refused = post(
        admin_browser, f"/admin/banks/{bank_id}", {"name": "Other", "action": "reject", "distance": "9"}
    )
    assert refused.status_code == 409
    assert "A bank with that name exists already." in refused.get_data(as_text=True)
    bank, _entries = bank_state(app, bank_id)
    # Unticked, the checkbox is absent from the form: the bank no longer matches.
    assert (bank.name, bank.action.value, bank.distance, bank.enabled) == ("Partner list", "flag", 0, False)


def test_an_admin_adds_an_entry_then_disables_and_enables_it(app, admin_browser):
    bank_id = make_bank(app)
    path = f"/admin/banks/{bank_id}"

    added = post(
        admin_browser, f"{path}/entries", {"pdq_hash": f" {HASH_B.upper()} ", "note": "from a partner"}
    )
    assert added.status_code == 303
    page = admin_browser.get(added.headers["Location"]).get_data(as_text=True)
    assert "Entry added." in page
    entry_id = re.search(r'<tr id="entry-([0-9a-f-]+)" data-enabled="true">', page).group(1)
    row = " ".join(re.search(rf'<tr id="entry-{entry_id}".*?</tr>', page, re.S).group(0).split())
    assert HASH_B in row and "manual" in row and "admin@example.com" in row and "from a partner" in row

    again = post(admin_browser, f"{path}/entries", {"pdq_hash": HASH_B}, follow_redirects=True)
    assert "The bank has that hash already." in again.get_data(as_text=True)
    malformed = post(admin_browser, f"{path}/entries", {"pdq_hash": "abc123", "note": "typo"})
    assert malformed.status_code == 422
    assert "A PDQ hash is 64 hexadecimal digits." in malformed.get_data(as_text=True)
    assert 'value="abc123"' in malformed.get_data(as_text=True)

    disabled = post(admin_browser, f"{path}/entries/{entry_id}", {"enabled": "false", "page": "1"})
    assert disabled.status_code == 303
    assert disabled.headers["Location"].endswith(f"{path}?page=1#entry-{entry_id}")
    page = admin_browser.get(disabled.headers["Location"]).get_data(as_text=True)
    assert "Entry disabled." in page
    assert f'<tr id="entry-{entry_id}" data-enabled="false">' in page
    assert bank_state(app, bank_id)[1][0].enabled is False

    enabled = post(admin_browser, f"{path}/entries/{entry_id}", {"enabled": "true"}, follow_redirects=True)
    assert "Entry enabled." in enabled.get_data(as_text=True)
    _bank, entries = bank_state(app, bank_id)
    assert [(entry.pdq_hash, entry.enabled, entry.note) for entry in entries] == [
        (HASH_B, True, "from a partner")
    ]


def test_an_import_with_malformed_lines_shows_each_with_its_content_under_an_address_a_reload_does_not_post(
    app, admin_browser
):
    bank_id = make_bank(app)
    other_bank_id = make_bank(app, "Another")
    long_note = "n" * 2_001

    response = import_file(
        admin_browser,
        bank_id,
        f"pdq,note\n{HASH_A},one\n<b>not-a-hash</b>\n{HASH_B}\n{HASH_C},x,y\n{HASH_A},{long_note}\n",
    )

    assert response.status_code == 303
    location = response.headers["Location"]
    assert re.fullmatch(rf"/admin/banks/{bank_id}\?import_report=[\w-]+#import", location)
    for _reload in range(2):
        html = admin_browser.get(location).get_data(as_text=True)
        assert "Nothing was imported: 3 malformed lines." in html
        lines = re.findall(r'<li data-line="(\d+)">(.*?)</li>', html)
        assert lines == [
            (
                "3",
                "line 3: not a PDQ hash (64 hexadecimal digits) "
                '<code class="line-content">&lt;b&gt;not-a-hash&lt;/b&gt;</code>',
            ),
            (
                "5",
                "line 5: expected a hash and at most one note "
                f'<code class="line-content">{HASH_C},x,y</code>',
            ),
            (
                "6",
                "line 6: a note of 2,001 characters (at most 2,000) "
                f'<code class="line-content">{HASH_A},{"n" * 14}…</code>',
            ),
        ]
        assert "No entries yet." in html
    assert bank_state(app, bank_id)[1] == []
    elsewhere = admin_browser.get(location.replace(str(bank_id), str(other_bank_id))).get_data(as_text=True)
    assert "Nothing was imported" not in elsewhere and "not-a-hash" not in elsewhere


def test_an_import_report_that_is_gone_says_so(app, admin_browser):
    bank_id = make_bank(app)

    html = admin_browser.get(f"/admin/banks/{bank_id}?import_report=no-such-report").get_data(as_text=True)

    assert "The report of that import is gone (reports are kept 60 minutes)" in html


def test_an_import_of_many_malformed_lines_lists_the_first_hundred_and_counts_them_all(app, admin_browser):
    bank_id = make_bank(app)

    response = import_file(admin_browser, bank_id, f"{HASH_A}\n" + "not-a-hash\n" * 1_500)

    html = admin_browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nothing was imported: 1,500 malformed lines; the first 100 are listed." in html
    assert [int(line) for line in re.findall(r'<li data-line="(\d+)">', html)] == list(range(2, 102))
    assert bank_state(app, bank_id)[1] == []


def test_a_good_import_says_how_many_were_added_and_how_many_the_bank_had(app, admin, admin_browser):
    bank_id = make_bank(app)
    add_hash(app, bank_id, admin, HASH_A)

    response = import_file(admin_browser, bank_id, f"{HASH_A}\n{HASH_B},seen on a forum\n\n{HASH_C}\n")

    assert response.status_code == 303
    page = admin_browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 added, 1 already present." in page
    assert len(re.findall(r'<tr id="entry-', page)) == 3
    _bank, entries = bank_state(app, bank_id)
    imported = {entry.pdq_hash: (entry.origin, entry.note) for entry in entries}
    assert imported == {
        HASH_A: (EntryOrigin.MANUAL, None),
        HASH_B: (EntryOrigin.IMPORT, "seen on a forum"),
        HASH_C: (EntryOrigin.IMPORT, None),
    }


def test_the_export_link_downloads_the_enabled_entries_as_csv(app, admin, admin_browser):
    bank_id = make_bank(app, "Known bad")
    add_hash(app, bank_id, admin, HASH_A, "first, with a comma")
    disabled = add_hash(app, bank_id, admin, HASH_B)
    post(admin_browser, f"/admin/banks/{bank_id}/entries/{disabled}", {"enabled": "false"})
    page = admin_browser.get(f"/admin/banks/{bank_id}").get_data(as_text=True)

    link = re.search(r'<a class="button" href="([^"]+)" download>Export', page).group(1)
    response = admin_browser.get(link)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="bank-Known-bad.csv"'
    assert response.get_data(as_text=True) == f'{HASH_A},"first, with a comma"\n'


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.ADMIN])
def test_the_photo_page_of_an_image_a_bank_decided_names_the_bank_and_entry_to_those_who_moderate_only(
    app, client, user, admin, role
):
    bank_id = make_bank(app, "Known bad")
    origin = waiting_photo(app, user, "origin.jpg", "rejected")
    entry_id = add_hash(app, bank_id, admin, HASH_A)
    with app.app_context():
        entry = db.session.get(BankEntry, entry_id)
        entry.origin, entry.origin_image_id = EntryOrigin.REVIEW, origin.virtual_image_id
        db.session.commit()
    copy = decided_by_bank(app, user, bank_id, entry_id, "copy.jpg", distance=12)

    owner_view = signed_in(client, user).get(f"/photos/{copy.session_id}").get_data(as_text=True)

    assert "Matched a known image, so it was rejected without asking a provider." in owner_view
    assert "Known bad" not in owner_view and "distance" not in owner_view
    assert "data-entry" not in owner_view and "/admin/banks" not in owner_view

    viewer = admin if role == Role.ADMIN else make_user(app, "moderator@example.com", role=role)
    moderating = signed_in(app.test_client(), viewer)
    moderators_view = moderating.get(f"/photos/{copy.session_id}").get_data(as_text=True)
    assert "Matched bank <strong>Known bad</strong> at distance 12 (of 256 bits)" in moderators_view
    assert (
        f'<a href="/admin/banks/{bank_id}" data-entry><code class="pdq-hash">{HASH_A}</code></a>'
        in moderators_view
    )
    assert "added in review by admin@example.com" in moderators_view
    assert f'<a href="/photos/{origin.session_id}" data-origin>this photo</a>' in moderators_view

    for path in ("/admin/banks", f"/admin/banks/{bank_id}"):
        page = moderating.get(path).get_data(as_text=True)
        match = " ".join(re.search(r"<tr data-match=.*?</tr>", page, re.S).group(0).split())
        assert f'<a href="/photos/{copy.session_id}">copy.jpg</a>' in match
        assert "<td>12</td>" in match and 'data-status="rejected"' in match
    bank_page = moderating.get(f"/admin/banks/{bank_id}").get_data(as_text=True)
    assert '<dd data-count="matches">1</dd>' in bank_page
    assert f'<a href="/photos/{origin.session_id}">photo</a>' in bank_page


def test_a_copy_of_earlier_bytes_reuses_their_verdict_and_links_them_for_their_owner(
    app, client, user, other_user
):
    earlier = waiting_photo(app, user, "first.jpg", "approved", labels=[])
    mine = waiting_photo(app, user, "again.jpg", "approved", labels=[])
    theirs = waiting_photo(app, other_user, "theirs.jpg", "approved", labels=[])
    with app.app_context():
        for photo in (mine, theirs):
            image = db.session.get(VirtualImage, photo.virtual_image_id)
            image.source, image.duplicate_of_id = "duplicate_of", earlier.virtual_image_id
        db.session.commit()

    own = signed_in(client, user).get(f"/photos/{mine.session_id}").get_data(as_text=True)
    other = (
        signed_in(app.test_client(), other_user).get(f"/photos/{theirs.session_id}").get_data(as_text=True)
    )

    for html in (own, other):
        assert "Identical to an earlier upload: this photo reuses the verdict of" in html
    assert f'<a href="/photos/{earlier.session_id}" data-earlier>that upload</a>' in own
    assert str(earlier.session_id) not in other


def test_a_review_card_says_which_bank_flagged_the_image(app, admin, admin_browser, user):
    bank_id = make_bank(app, "Look closer", "flag")
    entry_id = add_hash(app, bank_id, admin, HASH_A)
    photo = decided_by_bank(app, user, bank_id, entry_id, "lookalike.jpg", distance=7)
    with app.app_context():
        assert (
            db.session.get(VirtualImage, photo.virtual_image_id).moderation_status == ModerationStatus.FLAGGED
        )

    html = " ".join(admin_browser.get("/review").get_data(as_text=True).split())

    assert f'matched bank <a href="/admin/banks/{bank_id}">Look closer</a> at distance 7.' in html
