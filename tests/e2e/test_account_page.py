"""A user finds their own signing secret on /account and rotates it, in a real browser."""

import pytest
import requests
from playwright.sync_api import expect

from webapp.testing.browser import log_in

pytestmark = pytest.mark.e2e


def test_a_user_rotates_their_signing_secret_and_the_old_one_signs_for_a_while(
    page, live_server, user, other_user
):
    log_in(page, live_server, user.email, user.password)
    page.goto(live_server + "/account")
    secret = page.locator("#signing-secret")
    before = secret.inner_text()
    theirs = requests.get(f"{live_server}/api/account/signing-secret", headers=other_user.headers, timeout=10)
    assert before.startswith("whsec_") and before != theirs.json()["secret"]
    expect(page.locator("#previous-secret")).to_have_count(0)

    page.click("button:text('Rotate')")

    expect(page.locator(".flash")).to_contain_text("New signing secret made.")
    after = secret.inner_text()
    assert after.startswith("whsec_") and after != before
    expect(page.locator("#previous-secret")).to_contain_text(
        "Your previous secret still signs your events too"
    )
    mine = requests.get(f"{live_server}/api/account/signing-secret", headers=user.headers, timeout=10).json()
    assert mine["secret"] == after and mine["previous_secret_valid_until"]
