"""The first run: while no account exists, the first visitor makes the first admin, once.

The admin's transaction also inserts the `first_run` row, whose key is fixed. A second first run
at the same moment inserts the same key: PostgreSQL makes it wait for the first transaction and
then refuses it; SQLite lets one writer at a time, and refuses it once the first has committed.
Checking for users and then inserting one would let both through.
"""

from sqlalchemy import exists, or_, select
from sqlalchemy.exc import IntegrityError

from webapp.errors import AppError, NotFound
from webapp.extensions import db
from webapp.models import FirstRun, Role, User
from webapp.services.accounts.users import check_password, create_user


class FirstRunOver(NotFound):
    message = "There are accounts here already: log in, or ask an admin for an account."


class PasswordsDiffer(AppError):
    code = "passwords_differ"
    status = 422
    message = "The two passwords are not the same."


def is_open() -> bool:
    """Whether the first run is still to come: no account exists and none was ever made by it."""
    return not db.session.scalar(select(or_(exists(select(User.id)), exists(select(FirstRun.id)))))


def create_first_admin(email: str, password: str, password_again: str) -> User:
    """The first account, an admin with a password; FirstRunOver once any account exists."""
    if password != password_again:
        raise PasswordsDiffer()
    check_password(password)
    try:
        _claim()
        return create_user(email, password, role=Role.ADMIN)
    except Exception:
        # Nothing of a refused first run stays: not its row, not half an account.
        db.session.rollback()
        raise


def _claim() -> None:
    """Take the first run's row in this transaction, or raise FirstRunOver."""
    db.session.add(FirstRun())
    try:
        # Inserted now, before the password is hashed: a second first run waits here, not at commit.
        db.session.flush()
    except IntegrityError:
        raise FirstRunOver() from None
    # An account made from the command line closes the first run too.
    if db.session.scalar(select(exists(select(User.id)))):
        raise FirstRunOver()
