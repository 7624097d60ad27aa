"""Migrations: one Alembic head, and an empty PostgreSQL or SQLite database upgrades to it."""

import uuid

from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import inspect

from tests import services
from webapp import create_app
from webapp.extensions import db, migrate

TABLES = {
    "users",
    "api_tokens",
    "photo_processing_sessions",
    "s3_images",
    "virtual_images",
    "alembic_version",
}


def test_there_is_exactly_one_head(app):
    with app.app_context():
        config = migrate.get_config()
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def _upgrade_and_inspect(database_url: str) -> set[str]:
    fresh = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with fresh.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        db.engine.dispose()
    return tables


def test_an_empty_postgresql_database_upgrades_to_head(service_env):
    with (
        services.postgres_server() as server,
        services.database(server, f"photogate_migrate_{uuid.uuid4().hex[:8]}") as url,
    ):
        assert _upgrade_and_inspect(url.replace("postgresql://", "postgresql+psycopg2://")) >= TABLES


def test_an_empty_sqlite_database_upgrades_to_head(service_env, tmp_path):
    assert _upgrade_and_inspect(f"sqlite:///{tmp_path / 'photogate.db'}") >= TABLES
