"""The admin page for accounts: every user, new users, new passwords, access revoked.

It calls the services the `flask users` commands call, so both doors keep the same rules.
"""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user

from webapp.auth import admin_pages_only
from webapp.errors import AppError
from webapp.services import users

blueprint = Blueprint("admin_users", __name__, url_prefix="/admin/users")


blueprint.before_request(admin_pages_only)


@blueprint.get("")
def user_list():
    """Every account: whether it is an admin, when it was made, its API tokens and their last use."""
    return _users_page()


@blueprint.post("")
def create_user():
    """A new account that logs in with the password the form gives."""
    password = request.form.get("password", "")
    try:
        # The command line makes API-only accounts; this form makes people who log in.
        users.check_password(password)
        user = users.create_user(request.form.get("email", ""), password, "is_admin" in request.form)
    except AppError as error:
        return _users_page(create_error=error.message), error.status
    flash(f"Created {'admin' if user.is_admin else 'user'} {user.email}.", "ok")
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


@blueprint.post("/<user_id>/revoke")
def revoke(user_id: str):
    """End every browser session of the user and delete their API tokens."""
    user = users.get_user(user_id)
    users.end_sessions(user)
    revoked = users.revoke_tokens(user)
    flash(f"Ended every session of {user.email} and deleted {revoked} API token(s).", "ok")
    return redirect(url_for("admin_users.user_list"), 303)


def _users_page(**context) -> str:
    return render_template(
        "pages/admin_users.html",
        summaries=users.user_summaries(),
        min_password_length=users.MIN_PASSWORD_LENGTH,
        **context,
    )
