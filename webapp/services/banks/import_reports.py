"""What a failed hash-list import said, kept a while so the bank page can show it after a redirect.

The page answers a failed import with a redirect (Post/Redirect/Get), so a reload never sends the
file again. The report, up to MAX_REPORTED lines with their content, is too big for the session
cookie, so it waits in Redis under an unguessable id that the redirect's URL carries.
"""

import json
import secrets
from dataclasses import dataclass

from webapp.errors import AppError
from webapp.models import Bank
from webapp.queue import redis_connection

REPORT_SECONDS = 3600
# token_urlsafe(16) makes 22 characters; anything longer is no id of ours.
MAX_ID_LENGTH = 32


@dataclass(frozen=True)
class ImportReport:
    """Why an import failed: a message and, for malformed lines, `{lines, malformed_lines}`."""

    message: str
    details: dict | None = None


EXPIRED = ImportReport(
    f"The report of that import is gone (reports are kept {REPORT_SECONDS // 60} minutes): import the file "
    "again to see it."
)


def keep(bank: Bank, error: AppError) -> str:
    """Keep the report of `error`, an import into `bank` that failed; the id to find it by."""
    report_id = secrets.token_urlsafe(16)
    report = {"message": error.message, "details": getattr(error, "details", None)}
    redis_connection().set(_key(bank, report_id), json.dumps(report), ex=REPORT_SECONDS)
    return report_id


def find(bank: Bank, report_id: str | None) -> ImportReport | None:
    """The report kept under `report_id` for `bank`; EXPIRED once it is gone, None without an id."""
    if not report_id:
        return None
    if len(report_id) > MAX_ID_LENGTH:
        return EXPIRED
    kept = redis_connection().get(_key(bank, report_id))
    return ImportReport(**json.loads(kept)) if kept else EXPIRED


def _key(bank: Bank, report_id: str) -> str:
    # The bank is part of the key: a report is shown on the page of the bank it was made for only.
    return f"photogate:import-report:{bank.id}:{report_id}"
