"""A user makes, sees and deletes their API tokens on /account, in a real browser, no terminal needed."""

import pytest
import requests
from playwright.sync_api import expect

from webapp.testing.browser import log_in

pytestmark = pytest.mark.e2e


def calls_the_api(live_server: str, token: str) -> int:
    return requests.get(
        f"{live_server}/api/photos", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).status_code


def test_a_user_makes_a_token_sees_it_once_and_deletes_it_after_confirming(page, live_server, user):
    log_in(page, live_server, user.email, user.password)
    page.goto(live_server + "/account")
    rows = page.locator("table.tokens tbody tr")
    expect(rows).to_have_count(1)  # the one the test's user was made with
    expect(rows.first.locator(".token-name")).to_have_text("made on the command line")

    page.fill("input[name=name]", "nightly import")
    page.click("button:text('Make token')")

    shown = page.locator("#new-token")
    expect(shown).to_be_visible()
    secret = shown.inner_text()
    assert secret.startswith("pgt_") and calls_the_api(live_server, secret) == 200
    expect(page.locator(".shown-once")).to_contain_text("it is not shown again")
    expect(rows).to_have_count(2)
    made = rows.filter(has_text="nightly import")
    expect(made.locator("td").nth(2)).to_have_text("never")
    page.screenshot(path="/tmp/i19-account-tokens.png", full_page=True)

    page.reload()  # shows the account again, not the answer to the form: no second token, no secret
    expect(page).to_have_url(live_server + "/account")
    expect(page.locator("#new-token")).to_have_count(0)
    assert secret not in page.content()
    expect(rows).to_have_count(2)
    expect(made.locator("td").nth(2)).not_to_have_text("never")  # used since, above

    page.once("dialog", lambda dialog: dialog.dismiss())
    made.locator("button:text('Delete')").click()
    expect(rows).to_have_count(2)
    assert calls_the_api(live_server, secret) == 200

    page.once("dialog", lambda dialog: dialog.accept())
    made.locator("button:text('Delete')").click()
    expect(rows).to_have_count(1)
    expect(page.locator("table.tokens")).not_to_contain_text("nightly import")
    assert calls_the_api(live_server, secret) == 401
    assert calls_the_api(live_server, user.token) == 200


def test_a_nameless_token_is_refused_with_the_reason_on_the_page(page, live_server, user):
    log_in(page, live_server, user.email, user.password)
    page.goto(live_server + "/account")

    page.fill("input[name=name]", "   ")
    page.click("button:text('Make token')")

    expect(page.locator("#tokens ~ .error-message")).to_contain_text("A token needs a name")
    expect(page.locator("table.tokens tbody tr")).to_have_count(1)
    expect(page).to_have_url(live_server + "/account")
