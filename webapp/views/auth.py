"""Logging in and out of the browser session."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_user, logout_user
from werkzeug.wrappers import Response

from webapp.services.users import authenticate

blueprint = Blueprint("auth", __name__)


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    """The login form; on success, back to where the person was going."""
    if request.method == "POST":
        user = authenticate(request.form.get("email", ""), request.form.get("password", ""))
        if user:
            login_user(user, remember=True)
            return redirect(_safe_next(request.args.get("next")))
        flash("Wrong email or password.", "error")
    return render_template("pages/login.html")


@blueprint.post("/logout")
def logout() -> Response:
    """End the browser session."""
    logout_user()
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str:
    """Only redirect within this site."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("pages.upload")
