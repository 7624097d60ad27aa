"""A moderation service's callback body, read strictly: JSON with a bounded depth and no repeated
keys, each field checked for type and range, stored strings cut to their columns, and nothing that
PostgreSQL cannot store. Whatever a body holds, the answer is a 400 or 422 naming the field.
"""

import json
import math
import re
import uuid
from dataclasses import dataclass

from webapp.errors import AppError
from webapp.models import ModerationStatus, VirtualImage

VERDICTS = {
    "approved": ModerationStatus.APPROVED,
    "flagged": ModerationStatus.FLAGGED,
    "rejected": ModerationStatus.REJECTED,
}
# A callback is three levels deep (event, labels, label); room for a service's own extra fields.
MAX_DEPTH = 32
# A JSON string, escapes included: brackets inside it are text, not nesting.
STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
BRACKET = re.compile(r"[\[\]{}]")
TAXONOMY_LEVELS = (1, 2, 3)
# Stored strings are cut to their columns: model_version to its own, provider to the provider column's.
CAPPED_FIELDS = {
    "provider": VirtualImage.provider.type.length,
    "model_version": VirtualImage.model_version.type.length,
}
# Label names live in JSON, not in a column: cut to 255, the width of the schema's other names.
LABEL_NAME_CHARS = 255


class MalformedBody(AppError):
    code = "malformed_body"
    status = 400
    message = "The body must be a UTF-8 JSON object."


class InvalidEvent(AppError):
    code = "invalid_event"
    status = 422


@dataclass(frozen=True)
class Callback:
    """A verified callback, checked: the image, the service's verdict and labels, and its event as sent."""

    image_id: uuid.UUID
    verdict: ModerationStatus
    labels: list[dict]
    extra: dict[str, str]
    event: dict


def parse_callback(text: str) -> Callback:
    """The callback a verified body describes; MalformedBody or InvalidEvent naming what is wrong."""
    return _parse(_loads(text))


def _loads(text: str) -> dict:
    """The body's JSON object; refused before parsing when nested deeper than MAX_DEPTH."""
    # json recurses once per level, so a body 10,000 levels deep would end in RecursionError (a 500).
    if _depth(text) > MAX_DEPTH:
        raise MalformedBody(f"The body nests arrays and objects more than {MAX_DEPTH} levels deep.")
    try:
        event = json.loads(text, object_pairs_hook=_object_without_repeats)
    except ValueError:  # not JSON, or an integer of more digits than Python converts
        raise MalformedBody() from None
    if not isinstance(event, dict):
        raise MalformedBody()
    return event


def _depth(text: str) -> int:
    """How deeply JSON text nests arrays and objects; brackets inside strings do not count."""
    depth = deepest = 0
    for bracket in BRACKET.findall(STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _object_without_repeats(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object; one naming a key twice is refused, since parsers disagree on which value wins."""
    seen = set()
    for key, _ in pairs:
        if key in seen:
            raise MalformedBody(f"The key {key[:50]!r} appears twice in one object.")
        seen.add(key)
    return dict(pairs)


def _parse(event: dict) -> Callback:
    """The callback an event describes; InvalidEvent naming the first field that is wrong."""
    image_id = event.get("virtual_image_id")
    try:
        image_id = uuid.UUID(image_id if isinstance(image_id, str) else "")
    except ValueError:
        raise InvalidEvent("virtual_image_id must be the id of an image (a UUID string).") from None
    verdict = event.get("verdict")
    if not isinstance(verdict, str) or verdict not in VERDICTS:
        raise InvalidEvent("verdict must be 'approved', 'flagged' or 'rejected'.")
    labels = event.get("labels")
    if labels is not None and not isinstance(labels, list):
        raise InvalidEvent("labels must be a list of {Name, Confidence, ParentName?, TaxonomyLevel?}.")
    parsed = [_label(item, f"labels[{index}]") for index, item in enumerate(labels or [])]
    extra = {
        name: value
        for name, width in CAPPED_FIELDS.items()
        if (value := _text(event.get(name), name, width)) is not None
    }
    _refuse_unstorable(event, "")
    return Callback(image_id, VERDICTS[verdict], parsed, extra, event)


def _label(item: object, field: str) -> dict:
    """One label in Rekognition's shape: each field checked, its names capped."""
    if not isinstance(item, dict):
        raise InvalidEvent(f"{field} must be an object {{Name, Confidence, ParentName?, TaxonomyLevel?}}.")
    name = _text(item.get("Name"), f"{field}.Name", LABEL_NAME_CHARS)
    if name is None:
        raise InvalidEvent(f"{field}.Name must be a string.")
    confidence = item.get("Confidence")
    # `true` is an int in Python; NaN fails every comparison, and infinities the range.
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not 0 <= confidence <= 100:
        raise InvalidEvent(f"{field}.Confidence must be a number from 0 to 100.")
    parent = _text(item.get("ParentName"), f"{field}.ParentName", LABEL_NAME_CHARS) or ""
    level = item.get("TaxonomyLevel")
    if level is not None and (isinstance(level, bool) or level not in TAXONOMY_LEVELS):
        raise InvalidEvent(f"{field}.TaxonomyLevel must be 1, 2 or 3.")
    return {
        "Name": name,
        "ParentName": parent,
        "Confidence": float(confidence),
        "TaxonomyLevel": int(level) if level else (2 if parent else 1),
    }


def _text(value: object, field: str, width: int) -> str | None:
    """An optional string field, cut to `width` characters; another type is refused."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidEvent(f"{field} must be a string.")
    return value[:width]


def _refuse_unstorable(value: object, field: str) -> None:
    """Refuse, naming the field, what PostgreSQL cannot store: NUL, a lone surrogate, NaN, infinity."""
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{field}.{key[:50]}" if field else key[:50]
            _refuse_unstorable(key, path)
            _refuse_unstorable(item, path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_unstorable(item, f"{field}[{index}]")
    elif (isinstance(value, str) and not storable_text(value)) or (
        isinstance(value, float) and not math.isfinite(value)
    ):
        raise InvalidEvent(
            f"{field} holds a NUL, a lone surrogate, NaN or an infinity, which cannot be stored."
        )


def storable_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, such as JSON's "\ud800"
        return False
    return "\x00" not in text
