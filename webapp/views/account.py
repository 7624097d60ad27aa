"""The account page and API: a default callback URL for job notifications, the user's own secret
that signs them (and its rotation), the user's API tokens, the password, and a moderator's review
(wellness) settings."""

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user

from webapp.auth import api_login_required, moderator_required
from webapp.errors import AppError
from webapp.models import ApiToken
from webapp.models.users import TOKEN_NAME_LENGTH, RevealOn
from webapp.services.accounts import review_settings, settings, users
from webapp.services.jobs import notifications, signing_secrets
from webapp.services.photos.photos import iso
from webapp.views.fragments import is_htmx
from webapp.views.params import (
    MAX_URL_LENGTH,
    bool_field,
    choice_field,
    form_choice,
    form_string,
    json_object,
    known_fields,
    string_field,
)

blueprint = Blueprint("account", __name__)


@blueprint.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """Set the default callback URL; shows the user's secret that signs their notifications."""
    if request.method == "POST":
        settings.set_default_callback_url(current_user, form_string("default_callback_url", MAX_URL_LENGTH))
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


@blueprint.post("/account/tokens")
@login_required
def make_token():
    """A new API token with the form's name; this answer is the one time its secret is shown."""
    try:
        made = users.create_token(current_user, request.form.get("name", ""))
    except AppError as error:
        return _account_page(token_error=error.message), error.status
    return _account_page(new_token=made), 201


@blueprint.post("/account/review-settings")
@login_required
@moderator_required
def save_review_settings():
    """The review settings form (moderators): a box left unticked turns its setting off. An htmx
    request gets the form back with a line confirming what was saved."""
    saved = review_settings.change(
        current_user,
        blur="blur" in request.form,
        greyscale="greyscale" in request.form,
        reveal=form_choice("reveal", RevealOn),
    )
    if is_htmx():
        return render_template("partials/review_settings.html", review=saved, saved=True)
    flash("Review settings saved.", "ok")
    return redirect(url_for("account.account", _anchor="review-settings"))


def _account_page(**context) -> Response:
    page = render_template(
        "pages/account.html",
        signing=signing_secrets.of(current_user),
        tokens=users.list_tokens(current_user),
        token_name_length=TOKEN_NAME_LENGTH,
        # The server's own receiver and its secret are the operator's business: admins only.
        operator_receiver=notifications.operator_receiver() if current_user.is_admin else None,
        min_password_length=users.MIN_PASSWORD_LENGTH,
        review=review_settings.of(current_user) if current_user.is_moderator else None,
        **context,
    )
    return _secret_bearing(Response(page))


@blueprint.put("/api/account")
@api_login_required
def update_account():
    """JSON `{"default_callback_url": "https://…" | null}`."""
    url = string_field(json_object(), "default_callback_url", MAX_URL_LENGTH)
    settings.set_default_callback_url(current_user, url)
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


@blueprint.get("/api/account/review-settings")
@moderator_required
def review_settings_answer():
    """Your review settings: blur, greyscale, and how a blurred image is revealed."""
    return jsonify(_describe_review_settings(review_settings.of(current_user)))


@blueprint.put("/api/account/review-settings")
@moderator_required
def update_review_settings():
    """JSON with any of `{"blur": bool, "greyscale": bool, "reveal": "click" | "hover"}`; the rest is kept."""
    body = known_fields(json_object(), ("blur", "greyscale", "reveal"))
    saved = review_settings.change(
        current_user,
        blur=bool_field(body, "blur"),
        greyscale=bool_field(body, "greyscale"),
        reveal=choice_field(body, "reveal", RevealOn),
    )
    return jsonify(_describe_review_settings(saved))


@blueprint.get("/api/tokens")
@api_login_required
def token_list():
    """Your API tokens, oldest first: name, when made, when last used (never their secrets)."""
    return jsonify(tokens=[_describe_token(token) for token in users.list_tokens(current_user)])


@blueprint.post("/api/tokens")
@api_login_required
def create_token():
    """JSON `{"name": "…"}`: a new API token; this answer is the one time its secret is shown."""
    made = users.create_token(current_user, string_field(json_object(), "name", TOKEN_NAME_LENGTH) or "")
    answer = jsonify(_describe_token(made.record) | {"token": made.secret})
    answer.status_code = 201
    return _secret_bearing(answer)


@blueprint.delete("/api/tokens/<token_id>")
@api_login_required
def delete_token(token_id: str):
    """Delete one of your API tokens, the one this request carries too; another's is 404."""
    users.revoke_token(current_user, token_id)
    return "", 204


def _describe_token(token: ApiToken) -> dict:
    return {
        "id": str(token.id),
        "name": token.name,
        "created_at": iso(token.created_at),
        "last_used_at": iso(token.last_used_at),
    }


def _describe_review_settings(saved: review_settings.ReviewSettings) -> dict:
    return {"blur": saved.blur, "greyscale": saved.greyscale, "reveal": saved.reveal.value}


def _secret_answer(signing: signing_secrets.SigningSecret) -> Response:
    answer = jsonify(secret=signing.secret, previous_secret_valid_until=iso(signing.previous_valid_until))
    return _secret_bearing(answer)


def _secret_bearing(response: Response) -> Response:
    # No copy of a secret is kept by the browser or a proxy on the way.
    response.headers["Cache-Control"] = "no-store"
    return response
