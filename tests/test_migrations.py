"""Migrations: one Alembic head, an empty PostgreSQL or SQLite database upgrades to it, and data that
was there before a migration comes through it."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import inspect

from webapp import create_app
from webapp.extensions import db, migrate
from webapp.testing import servers

# The columns of `users` the data tests write and read, as of the revisions they start from.
USERS = sa.table(
    "users",
    sa.column("id", sa.Uuid()),
    sa.column("email", sa.String()),
    sa.column("is_admin", sa.Boolean()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("signing_secret", sa.String()),
)


@contextmanager
def empty_database(backend: str, tmp_path) -> Iterator[str]:
    """The SQLAlchemy URL of a new, empty PostgreSQL or SQLite database, gone after the block."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'photogate.db'}"
        return
    with (
        servers.postgres_server() as server,
        servers.database(server, f"photogate_migrate_{uuid.uuid4().hex[:8]}") as url,
    ):
        yield url.replace("postgresql://", "postgresql+psycopg2://")


def test_there_is_exactly_one_head(app):
    with app.app_context():
        config = migrate.get_config()
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def _upgrade_and_compare(database_url: str) -> tuple[set[str], list]:
    """Upgrade an empty database to head; its tables, and how it differs from the models."""
    fresh = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with fresh.app_context():
        upgrade()
        with db.engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
        db.engine.dispose()
    return tables, differences


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_an_empty_database_upgrades_to_head_and_matches_the_models(service_env, tmp_path, backend):
    with empty_database(backend, tmp_path) as url:
        tables, differences = _upgrade_and_compare(url)
    assert tables == set(db.metadata.tables) | {"alembic_version"}
    assert differences == []


def _signing_secrets_after_0008(database_url: str) -> list[str]:
    """Two users made at 0007, then the upgrade to 0008: the signing secrets the users then have."""
    fresh = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with fresh.app_context():
        upgrade(revision="0007_first_run")
        with db.engine.begin() as connection:
            for email in ("one@example.com", "two@example.com"):
                row = {"id": uuid.uuid4(), "email": email, "is_admin": False, "created_at": sa.func.now()}
                connection.execute(USERS.insert().values(row))
        upgrade(revision="0008_user_signing_secrets")
        with db.engine.connect() as connection:
            secrets = list(connection.scalars(sa.select(USERS.c.signing_secret)))
        db.engine.dispose()
    return secrets


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_users_from_before_0008_each_get_a_signing_secret_of_their_own(service_env, tmp_path, backend):
    with empty_database(backend, tmp_path) as url:
        secrets = _signing_secrets_after_0008(url)

    assert len(secrets) == len(set(secrets)) == 2
    assert all(secret.startswith("whsec_") and len(secret) == 50 for secret in secrets)


def _token_names_after_0010(database_url: str) -> list[str]:
    """A user with a token made at 0009, then the upgrade to 0010: the names the tokens then have."""
    fresh = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    tokens = sa.table(
        "api_tokens",
        sa.column("id", sa.Uuid()),
        sa.column("user_id", sa.Uuid()),
        sa.column("token_hash", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("name", sa.String()),
    )
    with fresh.app_context():
        upgrade(revision="0009_review_messages")
        with db.engine.begin() as connection:
            user_id = uuid.uuid4()
            made = {"created_at": sa.func.now()}
            user = {"id": user_id, "email": "one@example.com", "is_admin": False, "signing_secret": "whsec_x"}
            connection.execute(USERS.insert().values(user | made))
            token = {"id": uuid.uuid4(), "user_id": user_id, "token_hash": "0" * 64}
            connection.execute(tokens.insert().values(token | made))
        upgrade(revision="0010_token_names")
        with db.engine.connect() as connection:
            names = list(connection.scalars(sa.select(tokens.c.name)))
        db.engine.dispose()
    return names


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_tokens_from_before_0010_are_named_as_such(service_env, tmp_path, backend):
    with empty_database(backend, tmp_path) as url:
        names = _token_names_after_0010(url)

    assert names == ["token made before names"]
