"""Command line: `flask --app wsgi users ...`, `storage cors`, `moderation evaluate ...`, `up` (README.md)."""

import json
import os
from pathlib import Path
from urllib.parse import urlsplit

import click
from flask import Flask, current_app
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


storage = AppGroup("storage", help="Prepare the bucket photos are stored in.")


@storage.command("cors")
@click.argument("origins", nargs=-1)
@click.option("--max-age", default=3600, show_default=True, help="Seconds a browser may keep the rules.")
def allow_uploads_from(origins: tuple[str, ...], max_age: int) -> None:
    """Let pages of ORIGINS (by default PUBLIC_BASE_URL's) send files straight to the bucket.

    Sets the bucket's CORS rules, replacing any it had: for a bucket photogate owns.
    """
    from webapp.storage import get_storage

    bucket = get_storage()
    if not bucket.accepts_direct_uploads:
        raise click.ClickException("Photos are kept on local disk: there is no bucket to set.")
    allowed = [_origin(origin) for origin in origins or [current_app.config["PUBLIC_BASE_URL"]]]
    bucket.allow_origins(allowed, max_age)
    click.echo(f"Bucket {bucket.bucket} takes files from pages of {', '.join(allowed)}.")


def _origin(url: str) -> str:
    """The origin (scheme, host and port) of `url`, as a browser names it in CORS."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter(f"'{url}' is not an http(s) address such as https://photos.example.com.")
    return f"{parts.scheme}://{parts.netloc}"


moderation = AppGroup("moderation", help="Measure moderation on labelled images.")


@moderation.command("evaluate")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--labels",
    "labels_file",
    required=True,
    type=click.File(encoding="utf-8-sig"),
    help="A CSV of filename,label: safe, nsfw or a category of the policy (e.g. Explicit).",
)
@click.option("--provider", help="Default: MODERATION_PROVIDER. One that answers now: local or rekognition.")
@click.option(
    "--target-fpr",
    type=click.FloatRange(0, 1),
    default=0.01,
    show_default=True,
    help="The false positive rate the suggested threshold must meet.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def evaluate(folder: Path, labels_file, provider: str | None, target_fpr: float, as_json: bool) -> None:
    """Run a provider over the labelled images of FOLDER (nothing is stored) and print how its verdicts
    at the current thresholds, and at each threshold of a sweep, match the labels."""
    from webapp.services.moderation.evaluation import summary
    from webapp.services.moderation.evaluation_run import evaluate as run

    try:
        found = run(folder, labels_file.read(), provider)
    except AppError as error:
        raise click.ClickException(error.message) from error
    report = summary(found.provider, found.samples, found.unreadable, found.unlabelled, target_fpr)
    click.echo(json.dumps(report, indent=2) if as_json else "\n".join(_report_lines(report)))


def _report_lines(report: dict) -> list[str]:
    current = report["at_current_thresholds"]
    lines = [
        f"{report['provider']}: {report['n']} image(s), "
        f"{report['positives']} nsfw, {report['negatives']} safe; "
        f"{len(report['unreadable'])} unreadable; {report['unlabelled']} file(s) without a label ignored.",
        "At the current thresholds: " + _counts(current),
        *(f"  {name}: {row['caught']} of {row['n']} caught" for name, row in report["per_category"].items()),
        "Sweep (nsfw when the highest confidence over the policy's categories is at least the threshold):",
        *(f"  {row['threshold']:>3}: {_counts(row)}" for row in report["sweep"]),
        f"Lowest threshold with a false positive rate at most {report['target_fpr']}: "
        f"{_number(report['threshold_for_target_fpr'])}",
    ]
    return lines + [f"Unreadable: {item['filename']}: {item['reason']}" for item in report["unreadable"]]


def _counts(row: dict) -> str:
    counts = " ".join(f"{name} {row[name]}" for name in ("tp", "fp", "tn", "fn"))
    rates = ("precision", "recall", "false_positive_rate")
    return counts + "  " + " ".join(f"{name.replace('_', ' ')} {_number(row[name])}" for name in rates)


def _number(value) -> str:
    return "n/a" if value is None else str(value)


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
    app.cli.add_command(storage)
    app.cli.add_command(moderation)
    app.cli.add_command(up)
    app.cli.add_command(reconcile)
