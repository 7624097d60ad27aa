"""The Flask app a job runs in: the worker's own, or one made once per process when there is none."""

from contextlib import AbstractContextManager
from functools import cache

from flask import Flask, current_app, has_app_context


@cache
def _process_app() -> Flask:
    from webapp import create_app

    return create_app()


def app_context() -> AbstractContextManager:
    """A fresh app context per job, so each job gets its own database session."""
    app = current_app._get_current_object() if has_app_context() else _process_app()
    return app.app_context()
