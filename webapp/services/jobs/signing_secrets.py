"""Each user's own secret that signs their job.completed events, and its rotation with a grace period.

A secret made with one account signs only that account's events, so no user can sign an event
that another user's receiver accepts.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import update

from webapp.extensions import db
from webapp.models import User
from webapp.models.types import utcnow
from webapp.signing import new_secret


@dataclass(frozen=True)
class SigningSecret:
    """A user's secret, and until when their previous one still signs too (None: it does not)."""

    secret: str
    previous_valid_until: datetime | None


def of(user: User) -> SigningSecret:
    """The user's secret, with the end of the previous one's grace period while it lasts."""
    until = user.previous_secret_expires_at
    # SQLite hands back naive datetimes that are UTC already.
    until = until.replace(tzinfo=UTC) if until and not until.tzinfo else until
    lasts = bool(user.previous_signing_secret) and until is not None and until > utcnow()
    return SigningSecret(user.signing_secret, until if lasts else None)


def active(user: User) -> list[str]:
    """Every secret that signs the user's events now: theirs, and the previous one during its grace."""
    previous = [user.previous_signing_secret] if of(user).previous_valid_until else []
    return [user.signing_secret, *previous]


def rotate(user: User) -> SigningSecret:
    """A new secret for the user; the one it replaces signs too for NOTIFICATION_SECRET_GRACE seconds.

    An earlier previous secret stops signing at once. One UPDATE from the row's current values, so
    two rotations at once chain (the second replaces the first's new secret, which then signs during
    the grace period) rather than both replacing the same one.
    """
    grace = timedelta(seconds=current_app.config["NOTIFICATION_SECRET_GRACE"])
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(
            previous_signing_secret=User.signing_secret,
            signing_secret=new_secret(),
            previous_secret_expires_at=utcnow() + grace,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.refresh(user)
    return of(user)
