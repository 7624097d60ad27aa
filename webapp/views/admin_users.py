"""The admin page for accounts: every user, new users, new passwords, access revoked, accounts
disabled, enabled, given a role (user, moderator, admin), and deleted.

New users, passwords and revokes go through the services the `flask users` commands call, so both
doors keep the same rules. Every
action that takes something away is asked first: its URL answers GET with a page that says what
will happen, and POST does it; the page needs no script.
"""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user

from webapp.auth import admin_pages_only
from webapp.errors import AppError
from webapp.models import Role
from webapp.services.accounts import user_access, users
from webapp.views.params import form_choice

blueprint = Blueprint("admin_users", __name__, url_prefix="/admin/users")


blueprint.before_request(admin_pages_only)


@blueprint.get("")
def user_list():
    """Every account: its role, when it was made, its API tokens and their last use."""
    return _users_page()


@blueprint.post("")
def create_user():
    """A new account that logs in with the password the form gives."""
    password = request.form.get("password", "")
    try:
        # The command line makes API-only accounts; this form makes people who log in.
        users.check_password(password)
        user = users.create_user(request.form.get("email", ""), password, form_choice("role", Role))
    except AppError as error:
        return _users_page(create_error=error.message), error.status
    flash(f"Created {user.role} {user.email}.", "ok")
    return redirect(url_for("admin_users.user_list"), 303)


@blueprint.post("/<user_id>/password")
def set_password(user_id: str):
    """A new password for the user; every session they had ends (yours stays, if it is you)."""
    user = users.get_user(user_id)
    try:
        users.set_password(user, request.form.get("password", ""))
    except AppError as error:
        return _users_page(password_error=(user.id, error.message)), error.status
    if user.id == current_user.id:
        login_user(user, remember=True)
    flash(f"Password of {user.email} set; every session of theirs ended.", "ok")
    return redirect(url_for("admin_users.user_list"), 303)


@blueprint.get(
    '/<user_id>/<any(revoke, disable, delete, "make-user", "make-moderator", "make-admin"):action>'
)
def confirm(user_id: str, action: str):
    """Ask before taking access from a user, deleting them with what they own, or changing their role."""
    user = users.get_user(user_id)
    # Nobody takes access from themselves: disabling, deleting, or a role below the admin they are.
    if action not in ("revoke", "make-admin"):
        user_access.refuse_own(current_user, user)
    held = user_access.holdings(user)
    return render_template("pages/admin_user_confirm.html", user=user, action=action, held=held)


@blueprint.post("/<user_id>/revoke")
def revoke(user_id: str):
    """End every browser session of the user and delete their API tokens."""
    user = users.get_user(user_id)
    users.end_sessions(user)
    revoked = users.revoke_tokens(user)
    flash(f"Ended every session of {user.email} and deleted {revoked} API token(s).", "ok")
    return redirect(url_for("admin_users.user_list"), 303)


@blueprint.post("/<user_id>/disable")
def disable(user_id: str):
    """Disable the account: no login, every session ended, API tokens refused, until enabled again."""
    user = users.get_user(user_id)
    try:
        user_access.disable(current_user, user)
    except AppError as error:
        return _users_page(action_error=error.message), error.status
    flash(
        f"Disabled {user.email}: they cannot log in, and their sessions and API tokens no longer work.", "ok"
    )
    return redirect(url_for("admin_users.user_list"), 303)


@blueprint.post("/<user_id>/enable")
def enable(user_id: str):
    """Let a disabled account log in again, with its API tokens."""
    user = users.get_user(user_id)
    user_access.enable(user)
    flash(f"Enabled {user.email}: they can log in again, and their API tokens work again.", "ok")
    return redirect(url_for("admin_users.user_list"), 303)


@blueprint.post("/<user_id>/make-<any(user, moderator, admin):role>")
def set_role(user_id: str, role: str):
    """Give the user a role: an ordinary user, a moderator or an admin."""
    user = users.get_user(user_id)
    try:
        user_access.set_role(current_user, user, Role(role))
    except AppError as error:
        return _users_page(action_error=error.message), error.status
    flash(f"{user.email} is now {user.role.with_article}.", "ok")
    return redirect(url_for("admin_users.user_list"), 303)


@blueprint.post("/<user_id>/delete")
def delete(user_id: str):
    """Delete the account, every photo and job it owns (objects in storage too) and its tokens."""
    user = users.get_user(user_id)
    email = user.email
    try:
        held = user_access.delete(current_user, user)
    except AppError as error:
        return _users_page(action_error=error.message), error.status
    flash(f"Deleted {email} with their {held.photos} photo(s) and {held.jobs} job(s).", "ok")
    return redirect(url_for("admin_users.user_list"), 303)


def _users_page(**context) -> str:
    return render_template(
        "pages/admin_users.html",
        summaries=users.user_summaries(),
        min_password_length=users.MIN_PASSWORD_LENGTH,
        **context,
    )
