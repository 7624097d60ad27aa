"""A user's own settings."""

from webapp.extensions import db
from webapp.models import User
from webapp.services.jobs.notifications import check_callback_url


def set_default_callback_url(user: User, url: str | None) -> None:
    """Where this user's jobs report by default; empty clears it. Refused if it reaches private networks."""
    url = (url or "").strip() or None
    if url:
        check_callback_url(url)
    user.default_callback_url = url
    db.session.commit()
