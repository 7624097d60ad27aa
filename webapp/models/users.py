"""People who upload and review, and their API tokens (stored hashed)."""

import enum
import uuid
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, Text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.types import utcnow, value_enum
from webapp.signing import new_secret

EMAIL_LENGTH = 320
SECRET_LENGTH = 128
TOKEN_NAME_LENGTH = 100


class Role(enum.StrEnum):
    """What an account may do, each role all the one before it may: a user uploads and sees their own
    photos; a moderator also reviews everyone's (the queue, appeals, adding to banks); an admin also
    manages users, banks, queues and workers, and decides what moderators escalate."""

    USER = "user"
    MODERATOR = "moderator"
    ADMIN = "admin"

    @property
    def with_article(self) -> str:
        """The role as a sentence says it: "a user", "a moderator", "an admin"."""
        return f"{'an' if self is Role.ADMIN else 'a'} {self.value}"


MODERATING = (Role.MODERATOR, Role.ADMIN)


class RevealOn(enum.StrEnum):
    """How a moderator uncovers a blurred image."""

    CLICK = "click"
    HOVER = "hover"


class User(UserMixin, db.Model):
    """An account. Its browser sessions and remember cookies carry its session generation: raising
    the generation (logout, a new password, a revoke) ends every one of them at once."""

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(
        value_enum(Role, "user_role", native_enum=False, length=20), default=Role.USER
    )
    default_callback_url: Mapped[str | None] = mapped_column(Text)
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    # Signs this user's job.completed events (Standard Webhooks). Kept as it is, since signing needs
    # it; made with the account, whichever way the account is made. After a rotation the previous
    # one signs too, until previous_secret_expires_at, so a receiver can switch without a gap.
    signing_secret: Mapped[str] = mapped_column(String(SECRET_LENGTH), default=new_secret)
    previous_signing_secret: Mapped[str | None] = mapped_column(String(SECRET_LENGTH))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Set while an admin has disabled the account: it cannot log in, and its sessions and API tokens
    # are refused, until an admin enables it again.
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    # A moderator's wellness settings, kept on the server so every browser of theirs shows the same:
    # images under review blurred, flagged and rejected ones in greyscale, uncovered on click or hover.
    review_blur: Mapped[bool] = mapped_column(default=True)
    review_greyscale: Mapped[bool] = mapped_column(default=True)
    review_reveal: Mapped[RevealOn] = mapped_column(
        value_enum(RevealOn, "reveal_on", native_enum=False, length=10), default=RevealOn.CLICK
    )

    tokens: Mapped[list["ApiToken"]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @hybrid_property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @hybrid_property
    def is_moderator(self) -> bool:
        """Whether the account moderates: a moderator, or an admin (who may do all a moderator may)."""
        return self.role in MODERATING

    @is_moderator.inplace.expression
    @classmethod
    def _is_moderator_expression(cls):
        return cls.role.in_(MODERATING)

    @property
    def is_active(self) -> bool:
        """Flask-Login's hook: an inactive user is not authenticated, and login_user refuses them."""
        return self.disabled_at is None

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and the remember cookie: the id and the generation."""
        return f"{self.id}:{self.session_generation}"


class ApiToken(db.Model):
    """A secret that stands for its user in API requests; its owner names it to tell it apart."""

    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(TOKEN_NAME_LENGTH))
    # SHA-256 of the token: tokens are 256-bit random strings, so a fast hash is enough.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(back_populates="tokens")


class FirstRun(db.Model):
    """One row, there once the first run made the first admin: its fixed key is inserted in the
    transaction that makes the admin, so of two first runs at once only one can commit."""

    __tablename__ = "first_run"
    __table_args__ = (CheckConstraint("id = 1", name="ck_first_run_one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    done_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
