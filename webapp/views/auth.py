"""Logging in and out of the browser session."""

import re
from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from webapp import rate_limits
from webapp.rate_limits import limiter
from webapp.services.accounts.users import authenticate, end_sessions

blueprint = Blueprint("auth", __name__)

# Browsers drop ASCII tab and newlines anywhere in a URL and strip C0 controls and spaces around it.
_DROPPED = re.compile(r"[\t\n\r]")
_STRIPPED = "".join(chr(code) for code in range(0x21))


@blueprint.route("/login", methods=["GET", "POST"])
@limiter.limit(
    rate_limits.login_limits_per_account,
    key_func=rate_limits.login_email,
    deduct_when=rate_limits.login_failed,
    methods=["POST"],
    scope="login-account",
)
@limiter.limit(
    rate_limits.login_limits_per_address,
    deduct_when=rate_limits.login_failed,
    methods=["POST"],
    scope="login-address",
)
def login() -> Response | str:
    """The login form; on success, back to where the person was going (on this site only)."""
    if request.method == "POST":
        user = authenticate(request.form.get("email", ""), request.form.get("password", ""))
        # login_user refuses a disabled account (Flask-Login's is_active).
        # The remember cookie outlives the browser session: only for those who asked for it.
        if user and login_user(user, remember=request.form.get("remember") == "yes"):
            return redirect(safe_next(request.args.get("next")))
        g.login_failed = True
        # Said only to someone who gave the account's password: it tells a stranger nothing.
        flash("This account is disabled: ask an admin." if user else "Wrong email or password.", "error")
    return render_template("pages/login.html")


@blueprint.post("/logout")
def logout() -> Response:
    """End this browser session and every other one of the same person, remember cookies included."""
    if current_user.is_authenticated:
        end_sessions(current_user)
    logout_user()
    return redirect(url_for("auth.login"))


def safe_next(target: str | None) -> str:
    """`target` if, read as a browser reads it, it is a path on this site; else the upload page."""
    cleaned = _DROPPED.sub("", (target or "").strip(_STRIPPED)).replace("\\", "/")
    parts = urlsplit(cleaned)
    on_this_site = (
        cleaned.startswith("/") and not cleaned.startswith("//") and not (parts.scheme or parts.netloc)
    )
    if on_this_site and cleaned.isprintable():
        return cleaned
    return url_for("pages.upload")
