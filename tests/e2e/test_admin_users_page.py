"""An admin disables, gives roles to and deletes accounts on the users page, in a real browser: each
action that takes something away asks first, and their own row offers none of them."""

import pytest
from playwright.sync_api import expect

from webapp.testing.browser import log_in

pytestmark = pytest.mark.e2e


def test_an_admin_disables_promotes_and_deletes_users_each_after_a_confirmation(
    page, live_server, admin, user, other_user
):
    log_in(page, live_server, admin.email, admin.password)
    page.click("nav >> text=Users")
    mine = page.locator(f'tr[data-user="{admin.email}"]')
    theirs = page.locator(f'tr[data-user="{user.email}"]')
    expect(mine.get_by_role("link", name="Disable", exact=True)).to_have_count(0)
    expect(mine.get_by_role("link", name="Delete", exact=True)).to_have_count(0)
    expect(mine.get_by_role("link", name="Make ordinary user")).to_have_count(0)
    page.screenshot(path="/tmp/i19_admin_users.png", full_page=True)

    theirs.get_by_role("link", name="Disable", exact=True).click()
    expect(page.locator("h1")).to_have_text(f"Disable {user.email}?")
    page.screenshot(path="/tmp/i19_admin_user_confirm.png", full_page=True)
    page.get_by_role("button", name=f"Disable {user.email}").click()
    expect(page.locator(".flash")).to_contain_text(f"Disabled {user.email}")
    expect(theirs.locator(".badge-disabled")).to_be_visible()

    theirs.get_by_role("button", name="Enable").click()  # giving back is not asked about
    expect(theirs.locator(".badge-disabled")).to_have_count(0)

    theirs.get_by_role("link", name="Make moderator").click()
    expect(page.locator("h1")).to_have_text(f"Make {user.email} a moderator?")
    page.get_by_role("button", name="Make moderator").click()
    expect(page.locator(".flash")).to_have_text(f"{user.email} is now a moderator.")
    expect(theirs.locator("td").nth(1)).to_have_text("moderator")
    expect(theirs.get_by_role("link", name="Make moderator")).to_have_count(0)

    theirs.get_by_role("link", name="Make admin").click()
    page.get_by_role("button", name="Make admin").click()
    expect(theirs.locator("td").nth(1)).to_have_text("admin")

    others = page.locator(f'tr[data-user="{other_user.email}"]')
    others.get_by_role("link", name="Delete", exact=True).click()
    expect(page.locator("[data-confirm=delete]")).to_contain_text("disable the account instead")
    page.get_by_role("link", name="Cancel").click()
    expect(others).to_be_visible()  # Cancel deleted nothing

    others.get_by_role("link", name="Delete", exact=True).click()
    page.get_by_role("button", name=f"Delete {other_user.email} for good").click()
    expect(page.locator(".flash")).to_contain_text(f"Deleted {other_user.email}")
    expect(others).to_have_count(0)
    page.screenshot(path="/tmp/i19_admin_users_after.png", full_page=True)

    form = page.locator(".user-form")
    form.locator("input[name=email]").fill("reviewer@example.com")
    form.locator("input[name=password]").fill("a long enough password")
    form.locator("select[name=role]").select_option("moderator")
    form.get_by_role("button", name="Create user").click()
    expect(page.locator(".flash")).to_have_text("Created moderator reviewer@example.com.")
    expect(page.locator('tr[data-user="reviewer@example.com"] td').nth(1)).to_have_text("moderator")
    page.screenshot(path="/tmp/i21_admin_users_roles.png", full_page=True)
