"""A moderator's review (wellness) settings, issue 21: kept on the server, read and changed over the API
and on /account, and applied to the images of other people's photos on the review queue, photo pages
and bank pages; never to an uploader's own photos, never for people who do not moderate."""

import re

import pytest

from tests.support.factories import wait_until_terminal
from tests.support.pages import htmx_post, signed_in
from tests.support.reviews import waiting_photo
from webapp.extensions import db
from webapp.models import ModerationStatus, User, VirtualImage
from webapp.services.banks import banks

SETTINGS = "/api/account/review-settings"
DEFAULTS = {"blur": True, "greyscale": True, "reveal": "click"}
COVERED = 'data-blur="" data-greyscale="" data-reveal-on="click"'
REVEAL_BUTTON = '<button type="button" class="reveal" data-reveal>Reveal</button>'


def opening_tag(html: str, start: str) -> str:
    """The whole opening tag that begins with `start` (the first one)."""
    return re.search(re.escape(start) + r"[^>]*>", html).group(0)


def test_a_moderator_starts_with_blur_greyscale_and_reveal_on_click(client, moderator):
    answer = client.get(SETTINGS, headers=moderator.headers)

    assert answer.status_code == 200
    assert answer.get_json() == DEFAULTS


def test_a_moderator_changes_the_settings_given_and_keeps_the_others(client, moderator):
    first = client.put(SETTINGS, headers=moderator.headers, json={"blur": False})
    second = client.put(SETTINGS, headers=moderator.headers, json={"reveal": "hover", "greyscale": False})

    assert first.status_code == 200
    assert first.get_json() == {"blur": False, "greyscale": True, "reveal": "click"}
    assert second.get_json() == {"blur": False, "greyscale": False, "reveal": "hover"}
    assert client.get(SETTINGS, headers=moderator.headers).get_json() == second.get_json()
    unchanged = client.put(SETTINGS, headers=moderator.headers, json={"blur": None})
    assert unchanged.get_json() == second.get_json()


def test_a_setting_of_the_wrong_type_or_an_unknown_one_is_refused_and_nothing_changes(client, moderator):
    bodies = (
        {"blur": "no"},
        {"greyscale": 0},
        {"reveal": "always"},
        {"reveal": True},
        {"blurr": False},
        {"blur": False, "colour": "none"},
    )
    for body in bodies:
        refused = client.put(SETTINGS, headers=moderator.headers, json=body)
        assert refused.status_code == 422, body
        assert refused.get_json()["error"]["code"] == "invalid_field"
    assert "'colour' is not a field here" in refused.get_json()["error"]["message"]

    assert client.put(SETTINGS, headers=moderator.headers, json=[False]).status_code == 400
    assert client.get(SETTINGS, headers=moderator.headers).get_json() == DEFAULTS


def test_review_settings_are_only_for_those_who_moderate(app, client, user, admin):
    for answer in (
        client.get(SETTINGS, headers=user.headers),
        client.put(SETTINGS, headers=user.headers, json={"blur": False}),
    ):
        assert answer.status_code == 403
        assert answer.get_json()["error"]["code"] == "forbidden"
    assert client.get(SETTINGS).status_code == 401
    assert client.put(SETTINGS, headers=admin.headers, json={"blur": False}).get_json()["blur"] is False

    browser = signed_in(client, user)
    assert "Review settings" not in browser.get("/account").get_data(as_text=True)
    refused = htmx_post(browser, "/account/review-settings", {"blur": "on", "reveal": "click"})
    assert refused.status_code == 403
    with app.app_context():
        assert db.session.get(User, user.id).review_blur is True


def test_a_moderator_saves_the_form_on_the_account_page_and_sees_what_was_saved(client, moderator):
    browser = signed_in(client, moderator)
    page = browser.get("/account").get_data(as_text=True)
    assert '<h2 id="review-settings">Review settings</h2>' in page
    assert 'name="blur" value="on" checked' in page and 'name="greyscale" value="on" checked' in page
    assert 'name="reveal" value="click" checked' in page and 'name="reveal" value="hover">' in page

    # An unticked box is not sent: the setting goes off.
    saved = htmx_post(browser, "/account/review-settings", {"greyscale": "on", "reveal": "hover"})

    assert saved.status_code == 200
    form = saved.get_data(as_text=True)
    assert form.lstrip().startswith('<form id="review-settings-form"')
    assert 'name="blur" value="on">' in form and 'name="reveal" value="hover" checked' in form
    line = " ".join(re.search(r'<p class="saved" role="status">(.*?)</p>', form, re.S).group(1).split())
    assert line == "Saved: images are not blurred; flagged and rejected ones are in greyscale."
    expected = {"blur": False, "greyscale": True, "reveal": "hover"}
    assert client.get(SETTINGS, headers=moderator.headers).get_json() == expected


def test_without_scripts_the_form_saves_and_comes_back_to_the_account_page(client, moderator):
    browser = signed_in(client, moderator)
    form = {"blur": "on", "reveal": "click"}

    saved = browser.post("/account/review-settings", data=form, headers=browser.csrf_headers)

    assert saved.status_code == 302 and saved.headers["Location"] == "/account#review-settings"
    assert "Review settings saved." in browser.get("/account").get_data(as_text=True)
    refused = browser.post(
        "/account/review-settings", data={"reveal": "sometimes"}, headers=browser.csrf_headers
    )
    assert refused.status_code == 400
    assert client.get(SETTINGS, headers=moderator.headers).get_json() == {**DEFAULTS, "greyscale": False}


@pytest.mark.usefixtures("parked")
def test_a_review_card_is_covered_as_the_moderators_settings_say(app, client, moderator, user):
    flagged = waiting_photo(app, user, "flagged.jpg")
    failed = waiting_photo(app, user, "failed.jpg", "error", labels=[], error="provider down")
    own = waiting_photo(app, moderator, "mine.jpg")
    browser = signed_in(client, moderator)

    def thumbnail(html: str, photo) -> str:
        card = re.search(
            rf'<article class="review-card" id="review-{photo.virtual_image_id}".*?</article>', html, re.S
        )
        return card.group(0)

    queue = browser.get("/review").get_data(as_text=True)
    assert (
        opening_tag(thumbnail(queue, flagged), '<div class="review-thumb"')
        == f'<div class="review-thumb" {COVERED}>'
    )
    assert REVEAL_BUTTON in thumbnail(queue, flagged)
    # Greyscale is for flagged and rejected images; a failed one is only blurred.
    failed_thumb = opening_tag(thumbnail(queue, failed), '<div class="review-thumb"')
    assert failed_thumb == '<div class="review-thumb" data-blur="" data-reveal-on="click">'
    assert opening_tag(thumbnail(queue, own), '<div class="review-thumb"') == '<div class="review-thumb">'
    assert REVEAL_BUTTON not in thumbnail(queue, own)

    client.put(SETTINGS, headers=moderator.headers, json={"blur": False, "reveal": "hover"})
    queue = browser.get("/review").get_data(as_text=True)
    assert (
        opening_tag(thumbnail(queue, flagged), '<div class="review-thumb"')
        == '<div class="review-thumb" data-greyscale="">'
    )
    assert REVEAL_BUTTON not in thumbnail(queue, flagged)


@pytest.mark.usefixtures("parked")
def test_an_admins_list_of_everyones_photos_covers_the_others_cards(app, client, admin, user):
    theirs = waiting_photo(app, user, "theirs.jpg", "rejected")
    mine = waiting_photo(app, admin, "mine.jpg", "rejected")

    listed = signed_in(client, admin).get("/photos").get_data(as_text=True)

    link = '<a class="card-image" href="/photos/{}"'
    assert opening_tag(listed, link.format(theirs.session_id)).endswith(f" {COVERED}>")
    assert opening_tag(listed, link.format(mine.session_id)) == link.format(mine.session_id) + ">"


@pytest.mark.usefixtures("parked")
def test_a_photo_page_is_covered_for_a_moderator_never_for_its_uploader(app, client, moderator, user):
    photo = waiting_photo(app, user, "rejected.jpg", "rejected")
    client.put(SETTINGS, headers=moderator.headers, json={"reveal": "hover"})

    seen = signed_in(client, moderator).get(f"/photos/{photo.session_id}").get_data(as_text=True)
    own = signed_in(app.test_client(), user).get(f"/photos/{photo.session_id}").get_data(as_text=True)

    hover = 'data-blur="" data-greyscale="" data-reveal-on="hover"'
    assert opening_tag(seen, '<figure class="full" data-kind="original"').endswith(f" {hover}>")
    assert REVEAL_BUTTON in seen
    # The uploader's defaults say blur, as every account's do: they never apply to those who do not moderate.
    assert (
        opening_tag(own, '<figure class="full" data-kind="original"')
        == '<figure class="full" data-kind="original">'
    )
    assert "data-blur" not in own and "data-greyscale" not in own and "data-reveal" not in own


def test_bank_pages_cover_the_thumbnails_of_what_banks_matched(app, client, moderator, user, worker):
    photo = waiting_photo(app, user, "matched.jpg", "rejected")
    assert wait_until_terminal(app, str(photo.session_id)) == "completed"
    with app.app_context():
        bank = banks.create_bank("Known bad", "reject")
        entry, _created = banks.add_entry(bank, "a" * 64, None, db.session.get(User, moderator.id))
        entry.origin_image_id = photo.virtual_image_id
        image = db.session.get(VirtualImage, photo.virtual_image_id)
        # As the worker left it, whatever its model said: matched and rejected.
        image.matched_entry_id, image.moderation_status = entry.id, ModerationStatus.REJECTED
        db.session.commit()
        bank_id = bank.id
    browser = signed_in(client, moderator)

    for path in ("/admin/banks", f"/admin/banks/{bank_id}"):
        page = browser.get(path).get_data(as_text=True)
        match = re.search(r"<tr data-match=.*?</tr>", page, re.S).group(0)
        assert f'<span class="cover-thumb" {COVERED}><img src="' in match and REVEAL_BUTTON in match
    entries = re.search(r'<table class="admin-table bank-entries">.*?</table>', page, re.S).group(0)
    assert f'<span class="cover-thumb" {COVERED}><img src="' in entries

    client.put(SETTINGS, headers=moderator.headers, json={"blur": False, "greyscale": False})
    page = browser.get(f"/admin/banks/{bank_id}").get_data(as_text=True)
    assert '<span class="cover-thumb"><img src="' in page and "data-blur" not in page
