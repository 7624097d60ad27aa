"""Command line: `flask --app wsgi users ...` and `flask --app wsgi up` (README.md)."""

import os

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from webapp.errors import AppError
from webapp.models import Role
from webapp.services.accounts import user_access
from webapp.services.accounts import users as user_service

users = AppGroup("users", help="Create users, API tokens and passwords; list and revoke access.")
TOKEN_NAME = click.option(
    "--name",
    default=user_service.COMMAND_LINE_TOKEN_NAME,
    show_default=True,
    help="What the token is called on the user's account page.",
)


@users.command("create")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    help="user (the default) uploads; moderator also reviews everyone's photos; admin also manages.",
)
@click.option("--admin", is_flag=True, help="The same as --role admin.")
@click.option("--password", help="Lets the user log in to the pages; without it, API only.")
@TOKEN_NAME
def create_user(email: str, role: str | None, admin: bool, password: str | None, name: str) -> None:
    """Create a user; the last line printed is a new API token."""
    if admin and role not in (None, Role.ADMIN):
        raise click.UsageError(f"--admin and --role {role} disagree: give one of them.")
    chosen = Role.ADMIN if admin else Role(role or Role.USER)
    try:
        user = user_service.create_user(email, password=password, role=chosen)
    except AppError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"Created {user.role} {user.email}.")
    click.echo(_issue_token(user, name))


@users.command("role")
@click.argument("email")
@click.argument("role", type=click.Choice([role.value for role in Role]))
def set_role(email: str, role: str) -> None:
    """Give a user a role: user, moderator or admin (the last active admin stays one)."""
    user = _existing_user(email)
    try:
        # No admin acts here, so none is kept from changing their own role; the last admin still is.
        user_access.set_role(None, user, Role(role))
    except AppError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"{user.email} is now {user.role.with_article}.")


@users.command("token")
@click.argument("email")
@TOKEN_NAME
def new_token(email: str, name: str) -> None:
    """Print a new API token for an existing user (last line)."""
    click.echo(_issue_token(_existing_user(email), name))


@users.command("tokens")
@click.argument("email")
def list_tokens(email: str) -> None:
    """List a user's API tokens by creation time and last use (their secrets are never kept)."""
    tokens = user_service.list_tokens(_existing_user(email))
    for token in tokens:
        last_used = token.last_used_at.isoformat(timespec="seconds") if token.last_used_at else "never"
        created = token.created_at.isoformat(timespec="seconds")
        click.echo(f"{token.id}  {token.name!r}  created {created}  last used {last_used}")
    click.echo(f"{len(tokens)} token(s)")


@users.command("revoke")
@click.argument("email")
@click.option("--sessions", "sessions_only", is_flag=True, help="Only end browser sessions.")
@click.option("--tokens", "tokens_only", is_flag=True, help="Only delete API tokens.")
def revoke(email: str, sessions_only: bool, tokens_only: bool) -> None:
    """End every browser session and remember cookie of a user and delete their API tokens."""
    user = _existing_user(email)
    if not tokens_only:
        user_service.end_sessions(user)
        click.echo(f"Ended every browser session of {user.email}.")
    if not sessions_only:
        click.echo(f"Deleted {user_service.revoke_tokens(user)} API token(s) of {user.email}.")


@users.command("password")
@click.argument("email")
@click.password_option(help="The new password (asked for when not given).")
def set_password(email: str, password: str) -> None:
    """Set a user's password; every browser session they had ends."""
    try:
        user_service.set_password(_existing_user(email), password)
    except AppError as error:
        raise click.ClickException(error.message) from error
    click.echo("Password set; every browser session of the user ended.")


def _issue_token(user, name: str) -> str:
    try:
        return user_service.issue_token(user, name)
    except AppError as error:
        raise click.ClickException(error.message) from error


def _existing_user(email: str):
    user = user_service.find_user(email)
    if user is None:
        raise click.ClickException(f"No user with the email {email}.")
    return user


photos = AppGroup("photos", help="Maintain stored photos.")


@photos.command("fingerprint")
def fingerprint_photos() -> None:
    """Compute the PDQ hash of every processed photo that has none (photos from before hashing)."""
    from webapp.services.banks.fingerprints import backfill

    click.echo(f"Fingerprinted {backfill()} photo(s).")


banks = AppGroup("banks", help="Maintain hash banks.")


@banks.command("add-rejected")
def add_rejected_images() -> None:
    """Add every image people rejected to the review bank (REVIEW_REJECTS_BANK): rejections from
    before hash banks, or from while it was off. Safe to run again."""
    from webapp.services.banks.review_banking import bank_past_rejections

    added = bank_past_rejections()
    click.echo(f"Added {added.added} hash(es); {added.present} were in the bank already.")


@click.command("reconcile")
@with_appcontext
def reconcile() -> None:
    """Queue again every unfinished photo, image and job that has no live job (the periodic job's work)."""
    from webapp.services.operations.reconciler import reconcile as run

    report = run()
    for kind, ids in vars(report).items():
        click.echo(f"{kind.replace('_', ' ')}: {len(ids)}")


@click.command("up")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="PORT", default=5000, show_default=True)
@click.option(
    "--workers", "worker_count", envvar="WORKERS", default=os.cpu_count() or 1, help="Default: one per core."
)
def up(host: str, port: int, worker_count: int) -> None:
    """Run everything on this machine: Redis if none is configured, migrations, web and workers."""
    from webapp.embedded import run_everything

    run_everything(host, port, worker_count)


def register(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(photos)
    app.cli.add_command(banks)
    app.cli.add_command(up)
    app.cli.add_command(reconcile)
