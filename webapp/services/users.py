"""Accounts, passwords and API tokens."""

import hashlib
import secrets

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.errors import AppError
from webapp.extensions import db
from webapp.models import ApiToken, User

TOKEN_PREFIX = "pgt_"


class UserExists(AppError):
    code = "user_exists"
    status = 409


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(email: str, password: str | None = None, is_admin: bool = False) -> User:
    """A new account; without a password it can use the API but not the login page."""
    email = normalise_email(email)
    if "@" not in email:
        raise AppError(f"Not an email address: {email!r}")
    if db.session.scalar(select(User).where(User.email == email)):
        raise UserExists(f"A user with the email {email} already exists.")
    user = User(email=email, is_admin=is_admin)
    if password:
        user.password_hash = generate_password_hash(password)
    db.session.add(user)
    db.session.commit()
    return user


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def issue_token(user: User) -> str:
    """A new API token for `user`; only its hash is kept, so this is the one time it is seen."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_hash=_hash(token)))
    db.session.commit()
    return token


def user_for_token(token: str) -> User | None:
    return db.session.scalar(select(User).join(ApiToken).where(ApiToken.token_hash == _hash(token)))


def authenticate(email: str, password: str) -> User | None:
    """The user whose email and password these are, or None."""
    user = find_user(email)
    if user and user.password_hash and check_password_hash(user.password_hash, password):
        return user
    return None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
