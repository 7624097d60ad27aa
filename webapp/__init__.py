"""photogate: photo intake and content moderation."""

import os
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp import auth, cli, rate_limits, received_bytes, security_headers
from webapp.config import engine_options, settings_from_environment
from webapp.extensions import csrf, db, login_manager, migrate
from webapp.log_context import configure_logging
from webapp.providers.registry import escalation
from webapp.queue import init_queue
from webapp.storage import init_storage
from webapp.uploaded_files import DiskBackedRequest
from webapp.views import register_blueprints

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app from the environment (embedded defaults) and `overrides`."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=os.environ.get("PHOTOGATE_INSTANCE_PATH", str(ROOT / "instance")),
    )
    app.request_class = DiskBackedRequest
    app.config.update(settings_from_environment(Path(app.instance_path)))
    app.config.update(overrides or {})
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(app.config["SQLALCHEMY_DATABASE_URI"]))
    configure_logging(app.config["LOG_LEVEL"])
    # A malformed cascade stops the server at its start, not at the first uncertain photo.
    escalation(app.config)
    if app.config["PROXY_COUNT"]:
        # Client addresses (rate limits) and the scheme (HSTS) as the trusted proxies saw them.
        proxies = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    init_storage(app)
    init_queue(app)
    auth.init_app(app)
    rate_limits.init_app(app)
    received_bytes.init_app(app)
    register_blueprints(app)
    security_headers.init_app(app)
    cli.register(app)
    return app


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """SQLite enforces foreign keys only when asked; WAL lets the worker write while pages read."""
    if type(dbapi_connection).__module__ == "sqlite3":
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


def commit_without_fsync(engine) -> None:
    """On SQLite, this process's commits stop waiting for the disk (WAL's synchronous=NORMAL).

    For the workers only: everything they write is made again from what the web committed durably
    (the session and its original) if a power loss takes their last transactions, which WAL drops
    whole, and the reconciler queues such a photo again. A commit then holds SQLite's one write lock
    for microseconds rather than an fsync, so the web and the other workers wait less: a worker's
    database time per photo fell from 39 to 24 ms in `python -m bench.throughput`. The web's commits,
    which answer an upload, keep waiting for the disk.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _no_fsync(dbapi_connection, _record) -> None:
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")
