"""Migrations: one Alembic head, and an empty PostgreSQL or SQLite database upgrades to it."""

import uuid

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import inspect

from tests.support import services
from webapp import create_app
from webapp.extensions import db, migrate


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


def test_an_empty_postgresql_database_upgrades_to_head_and_matches_the_models(service_env):
    with (
        services.postgres_server() as server,
        services.database(server, f"photogate_migrate_{uuid.uuid4().hex[:8]}") as url,
    ):
        tables, differences = _upgrade_and_compare(url.replace("postgresql://", "postgresql+psycopg2://"))
    assert tables == set(db.metadata.tables) | {"alembic_version"}
    assert differences == []


def test_an_empty_sqlite_database_upgrades_to_head_and_matches_the_models(service_env, tmp_path):
    tables, differences = _upgrade_and_compare(f"sqlite:///{tmp_path / 'photogate.db'}")
    assert tables == set(db.metadata.tables) | {"alembic_version"}
    assert differences == []
