"""The account page and API: a default callback URL for job notifications, and how to verify them."""

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user

from webapp.auth import api_login_required
from webapp.errors import AppError
from webapp.services import accounts, users
from webapp.views.params import MAX_URL_LENGTH, form_string, json_object, string_field

blueprint = Blueprint("account", __name__)


@blueprint.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """Set the default callback URL; shows the secret that signs notifications."""
    if request.method == "POST":
        accounts.set_default_callback_url(current_user, form_string("default_callback_url", MAX_URL_LENGTH))
        flash("Saved.", "ok")
        return redirect(url_for("account.account"))
    return _account_page()


@blueprint.post("/account/password")
@login_required
def change_password():
    """A new password; every other session of the account ends, this browser stays logged in."""
    try:
        users.change_password(
            current_user, request.form.get("current_password"), request.form.get("new_password", "")
        )
    except AppError as error:
        return _account_page(password_error=error.message), error.status
    login_user(current_user, remember=True)
    flash("Password changed; every other session has ended.", "ok")
    return redirect(url_for("account.account"))


def _account_page(**context) -> str:
    return render_template(
        "pages/account.html",
        secret=current_app.config["NOTIFICATION_SECRET"],
        min_password_length=users.MIN_PASSWORD_LENGTH,
        **context,
    )


@blueprint.put("/api/account")
@api_login_required
def update_account():
    """JSON `{"default_callback_url": "https://…" | null}`."""
    url = string_field(json_object(), "default_callback_url", MAX_URL_LENGTH)
    accounts.set_default_callback_url(current_user, url)
    return jsonify(email=current_user.email, default_callback_url=current_user.default_callback_url)
