"""Hash banks (blueprint `banks_api`): banks, their entries, and hash lists in and out; and the shapes
of a bank and its entries. Moderators read and add entries; admins make and change banks and entries."""

from webapp.models import BankAction, EntryOrigin
from webapp.models.banks import MAX_DISTANCE
from webapp.services.banks.bank_entries import NOTE_LENGTH
from webapp.services.banks.banks import NAME_LENGTH
from webapp.services.banks.hash_lists import MAX_REPORTED, SHOWN_CHARACTERS
from webapp.views.openapi.shapes import (
    NULLABLE_STRING,
    TIME,
    UUID,
    body_object,
    errors,
    json_answer,
    json_body,
    listing,
    obj,
    paged,
    paging,
    path_id,
    ref,
)
from webapp.views.params import MAX_NOTE_LENGTH

# A PDQ hash as the API page's example shows it.
PDQ_EXAMPLE = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"

BANK_FIELDS = {
    "name": {"type": "string", "minLength": 1, "maxLength": NAME_LENGTH},
    "action": {"type": "string", "enum": [action.value for action in BankAction]},
    "distance": {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_DISTANCE},
    "enabled": {"type": ["boolean", "null"]},
}
HASH_LIST = {"type": "string", "description": "One PDQ hash (64 hex digits) per line, an optional note."}


def paths() -> dict:
    """The hash bank operations, by path."""
    bank_id = [path_id("bank_id")]
    return {
        "/api/banks": {"get": list_banks(), "post": create_bank()},
        "/api/banks/{bank_id}": {"parameters": bank_id, "get": get_bank(), "patch": update_bank()},
        "/api/banks/{bank_id}/entries": {"parameters": bank_id, "get": list_entries(), "post": add_entry()},
        "/api/banks/{bank_id}/entries/{entry_id}": {
            "parameters": [*bank_id, path_id("entry_id")],
            "patch": update_entry(),
        },
        "/api/banks/{bank_id}/import": {"parameters": bank_id, "post": import_hashes()},
        "/api/banks/{bank_id}/export": {"parameters": bank_id, "get": export_hashes()},
    }


def list_banks() -> dict:
    return listing(
        "List the hash banks, with their entry and match counts", "banks", "Bank", "The banks.", 403
    )


def create_bank() -> dict:
    return {
        "summary": "Create a hash bank (admins)",
        "requestBody": json_body(body_object(BANK_FIELDS, ["name", "action"])),
        "responses": {"201": json_answer(ref("Bank"), "Created."), **errors(400, 403, 409, 422)},
    }


def get_bank() -> dict:
    return {
        "summary": "One hash bank",
        "responses": {"200": json_answer(ref("Bank"), "The bank."), **errors(403, 404)},
    }


def update_bank() -> dict:
    return {
        "summary": "Rename a bank, change its action or distance, switch it on or off (admins)",
        "requestBody": json_body(body_object(BANK_FIELDS)),
        "responses": {"200": json_answer(ref("Bank"), "Changed."), **errors(400, 403, 404, 409, 422)},
    }


def list_entries() -> dict:
    return {
        "summary": "A bank's entries, newest first",
        "parameters": paging(),
        "responses": {
            "200": json_answer(paged("entries", ref("BankEntry")), "One page of entries."),
            **errors(400, 403, 404),
        },
    }


def add_entry() -> dict:
    pdq_hash = {"type": "string", "pattern": "^[0-9a-fA-F]{64}$", "examples": [PDQ_EXAMPLE]}
    note = {"type": ["string", "null"], "maxLength": MAX_NOTE_LENGTH}
    return {
        "summary": "Add a PDQ hash by hand (200 if the bank has it already)",
        "requestBody": json_body(body_object({"pdq_hash": pdq_hash, "note": note}, ["pdq_hash"])),
        "responses": {
            "201": json_answer(ref("BankEntry"), "Added."),
            "200": json_answer(ref("BankEntry"), "The bank had it already."),
            **errors(400, 403, 404, 422),
        },
    }


def update_entry() -> dict:
    fields = {
        "enabled": {"type": ["boolean", "null"]},
        "note": {"type": ["string", "null"], "maxLength": MAX_NOTE_LENGTH},
    }
    return {
        "summary": "Disable an entry (a false positive) or enable it again, or change its note (admins)",
        "requestBody": json_body(body_object(fields)),
        "responses": {"200": json_answer(ref("BankEntry"), "Changed."), **errors(400, 403, 404, 422)},
    }


def import_hashes() -> dict:
    upload = {
        "type": "object",
        "properties": {"file": {"type": "string", "format": "binary"}},
        "required": ["file"],
    }
    return {
        "summary": "Import a hash list: every line, or none if one is malformed (admins)",
        "description": "A text or CSV file, one PDQ hash per line with an optional note column "
        f"of at most {NOTE_LENGTH:,} characters (a `pdq,note` header and blank lines are allowed); "
        "each line is read on its own, so a quote never runs on into the next. A 422 imports "
        f"nothing: `error.lines` (`[{{line, error, content}}]`) names the first {MAX_REPORTED} "
        "malformed lines, each with how it starts, and `error.malformed_lines` counts them all.",
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": HASH_LIST},
                "text/plain": {"schema": HASH_LIST},
                "multipart/form-data": {"schema": upload},
            },
        },
        "responses": {
            "200": json_answer(
                obj({"added": {"type": "integer"}, "already_present": {"type": "integer"}}), "Imported."
            ),
            **errors(400, 403, 404, 413),
            "422": json_answer(INVALID_HASH_LIST, "Malformed lines: nothing was imported."),
        },
    }


def export_hashes() -> dict:
    return {
        "summary": "Export the bank's enabled entries as the hash list import reads",
        "responses": {
            "200": {
                "description": "`hash[,note]` per line; a note a spreadsheet would run as a "
                "formula (starting `=`, `+`, `-` or `@`) is written after a `'`, which import "
                "takes off.",
                "content": {"text/csv": {"schema": HASH_LIST}},
            },
            **errors(403, 404),
        },
    }


MALFORMED_LINE = obj(
    {
        "line": {"type": "integer", "minimum": 1},
        "error": {"type": "string"},
        "content": {
            "type": "string",
            "maxLength": SHOWN_CHARACTERS,
            "description": f"The line's first {SHOWN_CHARACTERS} characters (`…` when there is more); "
            "bytes that are not UTF-8 and control characters as `\\xNN`.",
        },
    }
)

INVALID_HASH_LIST = obj(
    {
        "error": obj(
            {
                "code": {"type": "string", "const": "invalid_hash_list"},
                "message": {"type": "string"},
                "lines": {"type": "array", "items": MALFORMED_LINE, "maxItems": MAX_REPORTED},
                "malformed_lines": {"type": "integer", "minimum": 1},
            }
        )
    }
)

BANK = obj(
    {
        "id": UUID,
        "name": {"type": "string"},
        "action": {"type": "string", "enum": [action.value for action in BankAction]},
        "distance": {"type": "integer", "minimum": 0, "maximum": MAX_DISTANCE},
        "enabled": {"type": "boolean"},
        "receives_review_rejects": {"type": "boolean"},
        "entries": {"type": "integer", "minimum": 0},
        "enabled_entries": {"type": "integer", "minimum": 0},
        "matches": {"type": "integer", "minimum": 0},
        "created_at": TIME,
    }
)

BANK_ENTRY = obj(
    {
        "id": UUID,
        "bank_id": UUID,
        "pdq_hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "crop_hashes": {"type": "integer", "minimum": 0, "description": "Centre-crop hashes kept beside."},
        "origin": {"type": "string", "enum": [origin.value for origin in EntryOrigin]},
        "origin_image_id": {"type": ["string", "null"], "format": "uuid"},
        "added_by": NULLABLE_STRING,
        "note": NULLABLE_STRING,
        "enabled": {"type": "boolean"},
        "created_at": TIME,
    }
)

SCHEMAS = {"Bank": BANK, "BankEntry": BANK_ENTRY}
