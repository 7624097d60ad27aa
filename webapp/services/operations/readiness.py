"""Readiness: whether the database, Redis and storage answer, each within a probe's patience."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from functools import partial

from sqlalchemy import Engine, text

from webapp.extensions import db
from webapp.queue import redis_connection
from webapp.storage import get_storage

# Each client has longer timeouts of its own (S3 retries for many seconds); a probe must answer sooner.
CHECK_TIMEOUT_SECONDS = 3.0
REASON_MAX_CHARS = 200


def check_backends() -> dict[str, str]:
    """ "ok" or "down: <reason>" for each backing service, checked side by side."""
    return _run_checks(
        {
            "database": partial(_select_one, db.engine),
            "redis": redis_connection().ping,
            "storage": get_storage().ping,
        }
    )


def _select_one(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _run_checks(checks: dict[str, Callable[[], object]]) -> dict[str, str]:
    """Run the checks side by side: each answers "ok" or "down: <reason>" within CHECK_TIMEOUT_SECONDS."""
    executor = ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="readyz")
    futures = {name: executor.submit(_answer, check) for name, check in checks.items()}
    wait(futures.values(), timeout=CHECK_TIMEOUT_SECONDS)
    # A check stuck on a silent server ends on its client's own timeout; nobody waits for it.
    executor.shutdown(wait=False)
    late = f"down: no answer within {CHECK_TIMEOUT_SECONDS:g} s"
    return {name: future.result() if future.done() else late for name, future in futures.items()}


def _answer(check: Callable[[], object]) -> str:
    try:
        check()
    except Exception as exc:  # whatever a client raises, the service is not usable: report why
        return f"down: {_reason(exc)}"
    return "ok"


def _reason(exc: Exception) -> str:
    """The exception's kind and the first line of its message, short enough for a probe's body."""
    first_line = next(iter(str(exc).splitlines()), "")
    return f"{type(exc).__name__}: {first_line}"[:REASON_MAX_CHARS]
