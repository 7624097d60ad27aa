"""Reading request parameters and JSON fields: each checked for type and range before use.

A value that does not fit is answered in /api/openapi.json's error shape, naming the field: 400 for query
parameters and bodies that are not what the operation reads, 422 for a JSON field of the wrong
type or size. Nothing a client sends reaches a service or the database unchecked.
"""

import enum
import re
import uuid
from datetime import UTC, datetime

from flask import request

from webapp.errors import AppError
from webapp.models import AuditKind, ModerationStatus, SessionStatus
from webapp.models.users import EMAIL_LENGTH
from webapp.services.moderation.audit_log import AuditFilter
from webapp.services.photo_filters import PhotoFilter

# Pages beyond this are empty anyway; the bound keeps OFFSET within what the database takes.
MAX_PAGE = 1_000_000
MAX_PER_PAGE = 200
# Upload orders are stored in an INTEGER column.
MAX_UPLOAD_ORDER = 2**31 - 1
MAX_URL_LENGTH = 2048
MAX_NOTE_LENGTH = 2000
MAX_NAME_LENGTH = 64
# Original filenames are kept to 255 characters: a longer search matches nothing.
MAX_FILENAME_SEARCH = 255
# The longest ISO 8601 moment worth reading: `2026-12-04T10:30:00.123456+05:30` and room to spare.
MAX_ISO_LENGTH = 40
# Category Cc: C0, DEL and C1. No filename has one, and PostgreSQL takes no NUL in a string.
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class InvalidParameter(AppError):
    code = "invalid_parameter"
    status = 400


class MalformedBody(AppError):
    code = "malformed_body"
    status = 400
    message = "The body must be a JSON object."


class BadUploadOrder(InvalidParameter):
    code = "bad_upload_order"


class InvalidField(AppError):
    code = "invalid_field"
    status = 422


def int_arg(name: str, default: int, maximum: int = MAX_PAGE) -> int:
    """A whole-number query parameter from 1 to `maximum`, or its default when absent."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    if not (_is_small_whole_number(raw) and 1 <= int(raw) <= maximum):
        raise InvalidParameter(f"'{name}' must be a whole number from 1 to {maximum:,}.")
    return int(raw)


def choices_arg(name: str, choices: type[enum.Enum]) -> frozenset:
    """A query parameter given any number of times, each one of `choices`: the set given (blank: none)."""
    allowed = {choice.value: choice for choice in choices}
    values = {value.strip() for value in request.args.getlist(name)} - {""}
    if not values <= allowed.keys():
        raise InvalidParameter(f"'{name}' must be one of {', '.join(allowed)}.")
    return frozenset(allowed[value] for value in values)


def choice_arg(name: str, choices: type[enum.Enum], default: enum.Enum) -> enum.Enum:
    """A query parameter that is one of `choices`, or `default` when absent or blank."""
    allowed = {choice.value: choice for choice in choices}
    value = request.args.get(name, "").strip()
    if value and value not in allowed:
        raise InvalidParameter(f"'{name}' must be one of {', '.join(allowed)}.")
    return allowed[value] if value else default


def photo_filter() -> PhotoFilter:
    """The filters of a listing of photos: `verdict` (moderation) and `state` (processing), each any
    number of times, and `filename`, part of the original filename."""
    return PhotoFilter(
        choices_arg("verdict", ModerationStatus), choices_arg("state", SessionStatus), search_arg("filename")
    )


def audit_filter() -> AuditFilter:
    """The filters of a reading of the audit log: `virtual_image_id`, `actor` (an email or a provider's
    name), `kind` (any number of times), and `since` and `until` (ISO 8601)."""
    return AuditFilter(
        id_arg("virtual_image_id"),
        search_arg("actor", EMAIL_LENGTH),
        choices_arg("kind", AuditKind),
        time_arg("since"),
        time_arg("until"),
    )


def search_arg(name: str, max_length: int = MAX_FILENAME_SEARCH) -> str:
    """A text to search for, without surrounding spaces ('' when absent or blank)."""
    text = request.args.get(name, "").strip()
    # Not isprintable(): filenames have other spaces than U+0020 (macOS screenshots' names have U+202F).
    if len(text) > max_length or CONTROL_CHARACTER.search(text):
        raise InvalidParameter(
            f"'{name}' must be at most {max_length} characters, with no control characters."
        )
    return text


def id_arg(name: str) -> uuid.UUID | None:
    """An id (a UUID) as a query parameter; None when absent or blank."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise InvalidParameter(f"'{name}' must be an id (a UUID).") from None


def time_arg(name: str) -> datetime | None:
    """A moment in ISO 8601 as a query parameter (`2026-12-04`, `2026-12-04T10:30`, `…Z`, `…+02:00`),
    in UTC (where it names no offset, it is UTC already); None when absent or blank."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        if len(raw) > MAX_ISO_LENGTH:
            raise ValueError(raw)
        moment = datetime.fromisoformat(raw)
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):  # not ISO 8601, or out of datetime's years once in UTC
        raise InvalidParameter(
            f"'{name}' must be a moment in ISO 8601, such as 2026-12-04T10:30:00Z."
        ) from None


def upload_orders(values: list[str]) -> list[int]:
    """The `upload_order` fields of a batch: whole numbers from 0 that fit their column."""
    if not all(_is_small_whole_number(value.strip()) and int(value) <= MAX_UPLOAD_ORDER for value in values):
        raise BadUploadOrder(f"'upload_order' must be whole numbers from 0 to {MAX_UPLOAD_ORDER:,}.")
    return [int(value) for value in values]


def _is_small_whole_number(text: str) -> bool:
    # Length first: int() of thousands of digits is slow, and Python refuses past 4,300.
    return text.isdecimal() and len(text) <= 12


def json_object() -> dict:
    """The JSON body as an object; an empty body is an empty object."""
    if not request.get_data(cache=True):
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise MalformedBody()
    return body


def string_field(body: dict, name: str, max_length: int) -> str | None:
    """An optional string field (null or absent: None) of at most `max_length` characters."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidField(f"'{name}' must be a string or null.")
    if len(value) > max_length:
        raise InvalidField(f"'{name}' must be at most {max_length:,} characters.")
    return value


def bool_field(body: dict, name: str) -> bool | None:
    """An optional true/false field (null or absent: None)."""
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise InvalidField(f"'{name}' must be true, false or null.")
    return value


def choice_field(body: dict, name: str, choices: type[enum.Enum]) -> enum.Enum | None:
    """An optional field that is one of `choices`' values (null or absent: None)."""
    value = body.get(name)
    if value is None:
        return None
    allowed = {choice.value: choice for choice in choices}
    if not isinstance(value, str) or value not in allowed:
        raise InvalidField(f"'{name}' must be one of {', '.join(allowed)}.")
    return allowed[value]


def known_fields(body: dict, names: tuple[str, ...]) -> dict:
    """The body, refused if it has a field besides `names`."""
    # Ignored, a misspelt field would look saved.
    unknown = sorted(set(body) - set(names))
    if unknown:
        raise InvalidField(f"'{unknown[0]}' is not a field here; the fields are {', '.join(names)}.")
    return body


def int_field(body: dict, name: str, minimum: int, maximum: int) -> int | None:
    """An optional whole-number field from `minimum` to `maximum` (null or absent: None)."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InvalidField(f"'{name}' must be a whole number from {minimum} to {maximum}.")
    return value


def form_string(name: str, max_length: int) -> str | None:
    """An optional form field of at most `max_length` characters."""
    value = request.form.get(name)
    if value is not None and len(value) > max_length:
        raise InvalidParameter(f"'{name}' must be at most {max_length:,} characters.")
    return value


def form_choice(name: str, choices: type[enum.Enum]) -> enum.Enum:
    """A form field that must be one of `choices`' values."""
    allowed = {choice.value: choice for choice in choices}
    value = request.form.get(name, "")
    if value not in allowed:
        raise InvalidParameter(f"'{name}' must be one of {', '.join(allowed)}.")
    return allowed[value]


def form_int(name: str, minimum: int, maximum: int) -> int | None:
    """An optional whole-number form field from `minimum` to `maximum` (blank or absent: None)."""
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return None
    if not (_is_small_whole_number(raw) and minimum <= int(raw) <= maximum):
        raise InvalidParameter(f"'{name}' must be a whole number from {minimum} to {maximum}.")
    return int(raw)
