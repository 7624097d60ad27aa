"""What an admin does to other accounts: disable and enable them, give them a role, delete them.

No admin does any of it to their own account, and the last active admin is never disabled, unmade or
deleted: the admins' rows are locked while one is changed, so two admins acting on each other at
once cannot leave nobody to manage users.
"""

from dataclasses import dataclass

from sqlalchemy import func, select

from webapp.errors import AppError
from webapp.extensions import db
from webapp.models import ApiToken, BulkJob, PhotoSession, Role, User
from webapp.models.types import utcnow
from webapp.services.photos import deletion


class OwnAccount(AppError):
    code = "own_account"
    status = 409
    message = "Not on your own account: another admin has to do that."


class LastAdmin(AppError):
    code = "last_admin"
    status = 409
    message = "That is the last active admin: make another admin first."


@dataclass(frozen=True)
class Holdings:
    """What deleting an account deletes with it."""

    photos: int
    jobs: int
    tokens: int


def holdings(user: User) -> Holdings:
    """How many photos, jobs and API tokens the user has."""

    def owned(column, owner) -> int:
        return db.session.scalar(select(func.count(column)).where(owner == user.id))

    return Holdings(
        owned(PhotoSession.session_id, PhotoSession.owner_id),
        owned(BulkJob.id, BulkJob.owner_id),
        owned(ApiToken.id, ApiToken.user_id),
    )


def disable(actor: User, user: User) -> None:
    """The user can no longer log in, every session of theirs ends and their API tokens are refused;
    their photos, jobs and tokens stay, for when they are enabled again."""
    _may_lose_access(actor, user)
    user.disabled_at = user.disabled_at or utcnow()
    # A new generation: enabling the account again does not bring old sessions back.
    user.session_generation = User.session_generation + 1
    db.session.commit()


def enable(user: User) -> None:
    """The user can log in again and their API tokens work again."""
    user.disabled_at = None
    db.session.commit()


def set_role(actor: User | None, user: User, role: Role) -> None:
    """Give the user a role: user, moderator or admin. `actor` is the admin acting, None for the
    command line, which may change any account's role but still never unmakes the last admin."""
    if user.is_admin and role != Role.ADMIN:
        _may_lose_access(actor, user)
    user.role = Role(role)
    db.session.commit()


def delete(actor: User, user: User) -> Holdings:
    """Delete the account with everything it owns, objects in storage too; what it owned.

    It is disabled first, in a transaction of its own, so that no new photo of theirs starts while
    their objects are deleted; if storage fails, the account stays disabled and can be deleted again.
    """
    disable(actor, user)
    held = holdings(user)
    deletion.delete_account(user)
    return held


def refuse_own(actor: User, user: User) -> None:
    """OwnAccount if `user` is the admin acting: nobody takes access from themselves."""
    if actor.id == user.id:
        raise OwnAccount()


def _may_lose_access(actor: User | None, user: User) -> None:
    """Refuse to take access from one's own account or from the last active admin; until the
    transaction ends, no other admin can lose access either."""
    if actor is not None:
        refuse_own(actor, user)
    active_admins = set(
        db.session.scalars(select(User.id).where(User.is_admin, User.disabled_at.is_(None)).with_for_update())
    )
    if active_admins == {user.id}:
        db.session.rollback()
        raise LastAdmin()
