"""The account page and API: a default callback URL for job notifications, and how to verify them."""

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from webapp.auth import api_login_required
from webapp.services import accounts

blueprint = Blueprint("account", __name__)


@blueprint.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """Set the default callback URL; shows the secret that signs notifications."""
    if request.method == "POST":
        accounts.set_default_callback_url(current_user, request.form.get("default_callback_url"))
        flash("Saved.", "ok")
        return redirect(url_for("account.account"))
    return render_template("pages/account.html", secret=current_app.config["NOTIFICATION_SECRET"])


@blueprint.put("/api/account")
@api_login_required
def update_account():
    """JSON `{"default_callback_url": "https://…" | null}`."""
    body = request.get_json(silent=True) or {}
    accounts.set_default_callback_url(current_user, body.get("default_callback_url"))
    return jsonify(email=current_user.email, default_callback_url=current_user.default_callback_url)
