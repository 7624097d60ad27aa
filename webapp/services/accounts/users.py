"""Accounts, passwords, browser sessions and API tokens."""

import hashlib
import secrets
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import delete, func, or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.errors import AppError, NotFound, parse_id
from webapp.extensions import db
from webapp.models import ApiToken, Role, User
from webapp.models.types import utcnow
from webapp.models.users import EMAIL_LENGTH, TOKEN_NAME_LENGTH

TOKEN_PREFIX = "pgt_"
MIN_PASSWORD_LENGTH = 10
# A token's last use is written at most this often: one write a minute, not one per request.
LAST_USE_RESOLUTION = timedelta(minutes=1)
# Tokens made by `users create` and `users token` without --name.
COMMAND_LINE_TOKEN_NAME = "made on the command line"
# Enough for every script and machine of one person; a bound on what one account can pile up.
MAX_TOKENS_PER_USER = 100


class UserExists(AppError):
    code = "user_exists"
    status = 409


class WrongPassword(AppError):
    code = "wrong_password"
    status = 422
    message = "The current password is not right."


class WeakPassword(AppError):
    code = "weak_password"
    status = 422
    message = f"A password needs at least {MIN_PASSWORD_LENGTH} characters."


class TokenNameInvalid(AppError):
    code = "invalid_field"
    status = 422
    message = f"A token needs a name of 1 to {TOKEN_NAME_LENGTH} characters, on one line."


class TooManyTokens(AppError):
    code = "too_many_tokens"
    status = 409
    message = f"An account holds at most {MAX_TOKENS_PER_USER} API tokens: delete one you no longer use."


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(email: str, password: str | None = None, role: Role = Role.USER) -> User:
    """A new account; without a password it can use the API but not the login page."""
    email = normalise_email(email)
    if "@" not in email or len(email) > EMAIL_LENGTH:
        raise AppError(f"Not an email address: {email[:EMAIL_LENGTH]!r}")
    if db.session.scalar(select(User).where(User.email == email)):
        raise UserExists(f"A user with the email {email} already exists.")
    user = User(email=email, role=Role(role))
    if password:
        check_password(password)
        user.password_hash = generate_password_hash(password)
    db.session.add(user)
    db.session.commit()
    return user


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def get_user(user_id: object) -> User:
    """The user with this id; 404 for an unknown or malformed one."""
    user = db.session.get(User, parse_id(user_id))
    if user is None:
        raise NotFound()
    return user


@dataclass(frozen=True)
class UserSummary:
    user: User
    tokens: int
    last_token_use: datetime | None


def user_summaries() -> list[UserSummary]:
    """Every account, oldest first, with how many API tokens it has and when one was last used."""
    rows = db.session.execute(
        select(User, func.count(ApiToken.id), func.max(ApiToken.last_used_at))
        .outerjoin(ApiToken, ApiToken.user_id == User.id)
        .group_by(User.id)
        .order_by(User.created_at, User.email)
    )
    return [UserSummary(user, tokens, last_use) for user, tokens, last_use in rows]


@dataclass(frozen=True)
class NewToken:
    """A token just made: its row, and its secret, which is seen this once (only its hash is kept)."""

    record: ApiToken
    secret: str


def create_token(user: User, name: str) -> NewToken:
    """A new API token for `user`, called `name` (surrounding spaces dropped)."""
    name = name.strip()
    if not name or len(name) > TOKEN_NAME_LENGTH or any(unicodedata.category(char) == "Cc" for char in name):
        raise TokenNameInvalid()
    held = db.session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.user_id == user.id))
    if held >= MAX_TOKENS_PER_USER:
        raise TooManyTokens()
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(user=user, name=name, token_hash=_hash(secret))
    db.session.add(record)
    db.session.commit()
    return NewToken(record, secret)


def issue_token(user: User, name: str = COMMAND_LINE_TOKEN_NAME) -> str:
    """A new API token for `user`: its secret, the one time it is seen."""
    return create_token(user, name).secret


def user_for_token(token: str) -> User | None:
    """The owner of an API token, noting when it was used; None for an unknown token."""
    api_token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(token)))
    if api_token is None:
        return None
    now = utcnow()
    db.session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == api_token.id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - LAST_USE_RESOLUTION),
        )
        .values(last_used_at=now)
        # Compared in SQL only: SQLite hands back naive times that Python would not compare.
        .execution_options(synchronize_session=False)
    )
    user = api_token.user
    # Even an UPDATE that changed nothing began a transaction: on SQLite it holds the database's
    # write lock, which would otherwise stay taken for the whole request (an upload's parsing and
    # decoding) and stall every worker's writes.
    db.session.commit()
    return user


def list_tokens(user: User) -> list[ApiToken]:
    """The user's API tokens, oldest first (only their hashes are kept)."""
    return list(
        db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at))
    )


def revoke_token(user: User, token_id: object) -> None:
    """Delete one of the user's API tokens; NotFound for an unknown id or another user's token."""
    query = delete(ApiToken).where(ApiToken.id == parse_id(token_id), ApiToken.user_id == user.id)
    deleted = db.session.execute(query).rowcount
    db.session.commit()
    if not deleted:
        raise NotFound()


def revoke_tokens(user: User) -> int:
    """Delete every API token of the user; returns how many there were."""
    revoked = db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id)).rowcount
    db.session.commit()
    return revoked


def authenticate(email: str, password: str) -> User | None:
    """The user whose email and password these are, or None.

    Takes as long for an unknown email as for a wrong password, so answers do not tell which
    accounts exist.
    """
    user = find_user(email)
    stored = user.password_hash if user and user.password_hash else _decoy_hash()
    matches = check_password_hash(stored, password)
    return user if matches and user and user.password_hash else None


def session_user(session_id: str) -> User | None:
    """The user a browser session or remember cookie names, if its generation is still current."""
    user_id, _, generation = session_id.partition(":")
    try:
        user = db.session.get(User, uuid.UUID(user_id))
    except ValueError:
        return None
    return user if user is not None and str(user.session_generation) == generation else None


def end_sessions(user: User) -> None:
    """End every browser session and remember cookie of the user, everywhere."""
    db.session.execute(
        update(User).where(User.id == user.id).values(session_generation=User.session_generation + 1)
    )
    db.session.commit()
    db.session.refresh(user)


def change_password(user: User, current: str | None, new: str) -> None:
    """Set a new password (the current one must match, if the user has one) and end every session."""
    if user.password_hash and not check_password_hash(user.password_hash, current or ""):
        raise WrongPassword()
    set_password(user, new)


def set_password(user: User, new: str) -> None:
    """Set the user's password and end every session they had."""
    check_password(new)
    user.password_hash = generate_password_hash(new)
    db.session.commit()
    end_sessions(user)


def check_password(password: str) -> None:
    """Refuse a password too weak to set."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword()


@cache
def _decoy_hash() -> str:
    """A hash of a random password, checked when there is no real one, made with the same method."""
    return generate_password_hash(secrets.token_urlsafe(16))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
