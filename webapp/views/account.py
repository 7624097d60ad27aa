"""The account page and API: a default callback URL for job notifications, the user's own secret
that signs them (and its rotation), and the password."""

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user

from webapp.auth import api_login_required
from webapp.errors import AppError
from webapp.services import accounts, notifications, signing_secrets, users
from webapp.services.photos import iso
from webapp.views.params import MAX_URL_LENGTH, form_string, json_object, string_field

blueprint = Blueprint("account", __name__)


@blueprint.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """Set the default callback URL; shows the user's secret that signs their notifications."""
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


@blueprint.post("/account/signing-secret/rotate")
@login_required
def rotate_signing_secret():
    """A new signing secret; the previous one signs too during the grace period."""
    signing_secrets.rotate(current_user)
    flash("New signing secret made.", "ok")
    return redirect(url_for("account.account"))


def _account_page(**context) -> Response:
    page = render_template(
        "pages/account.html",
        signing=signing_secrets.of(current_user),
        # The server's own receiver and its secret are the operator's business: admins only.
        operator_receiver=notifications.operator_receiver() if current_user.is_admin else None,
        min_password_length=users.MIN_PASSWORD_LENGTH,
        **context,
    )
    return _secret_bearing(Response(page))


@blueprint.put("/api/account")
@api_login_required
def update_account():
    """JSON `{"default_callback_url": "https://…" | null}`."""
    url = string_field(json_object(), "default_callback_url", MAX_URL_LENGTH)
    accounts.set_default_callback_url(current_user, url)
    return jsonify(email=current_user.email, default_callback_url=current_user.default_callback_url)


@blueprint.get("/api/account/signing-secret")
@api_login_required
def signing_secret():
    """The secret that signs your job.completed events, and until when the previous one does too."""
    return _secret_answer(signing_secrets.of(current_user))


@blueprint.post("/api/account/signing-secret/rotate")
@api_login_required
def rotate_signing_secret_api():
    """A new signing secret; the previous one signs too for the grace period."""
    return _secret_answer(signing_secrets.rotate(current_user))


def _secret_answer(signing: signing_secrets.SigningSecret) -> Response:
    answer = jsonify(secret=signing.secret, previous_secret_valid_until=iso(signing.previous_valid_until))
    return _secret_bearing(answer)


def _secret_bearing(response: Response) -> Response:
    # No copy of a secret is kept by the browser or a proxy on the way.
    response.headers["Cache-Control"] = "no-store"
    return response
