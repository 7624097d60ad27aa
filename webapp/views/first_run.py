"""The first run's page: while no account exists, the site leads here to make the first admin."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_user
from werkzeug.wrappers import Response

from webapp import rate_limits
from webapp.errors import AppError
from webapp.rate_limits import limiter
from webapp.services.accounts import first_run
from webapp.services.accounts.users import MIN_PASSWORD_LENGTH

blueprint = Blueprint("first_run", __name__)

# Where a visitor starts: the front page and the login form, which has no account to log in to yet.
_ENTRANCES = {"pages.index", "auth.login"}


@blueprint.before_app_request
def _lead_to_the_first_run() -> Response | None:
    """Send a visitor of an empty site from the front page or the login form to the first run."""
    if request.method == "GET" and request.endpoint in _ENTRANCES and first_run.is_open():
        return redirect(url_for("first_run.setup"))
    return None


@blueprint.route("/setup", methods=["GET", "POST"])
# Every post counts: each one hashes a password, and only one can ever succeed.
@limiter.limit(rate_limits.login_limits_per_address, methods=["POST"], scope="first-run-address")
def setup() -> Response | tuple[str, int] | str:
    """Make the first admin and log them in; 404 once any account exists."""
    if not first_run.is_open():
        raise first_run.FirstRunOver()
    if request.method == "POST":
        try:
            admin = first_run.create_first_admin(
                request.form.get("email", ""),
                request.form.get("password", ""),
                request.form.get("password_again", ""),
            )
        except first_run.FirstRunOver:
            raise
        except AppError as error:
            return _setup_page(error=error.message), error.status
        login_user(admin, remember=True)
        flash(f"Welcome: {admin.email} is the admin. Add people on the Users page.", "ok")
        return redirect(url_for("pages.upload"))
    return _setup_page()


def _setup_page(**context) -> str:
    return render_template("pages/setup.html", min_password_length=MIN_PASSWORD_LENGTH, **context)
