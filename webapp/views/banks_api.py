"""Hash banks over the API, under /api/banks: banks, their entries, and hash lists in and out.

Moderators read banks, their entries and lists, and add hashes; admins make and change banks and
entries and import lists."""

import io
from typing import IO

from flask import Blueprint, Response, current_app, jsonify, request, stream_with_context
from flask_login import current_user

from webapp.auth import admin_required, moderator_required
from webapp.models import Bank, BankEntry
from webapp.models.banks import DEFAULT_DISTANCE, MAX_DISTANCE
from webapp.services.banks import banks, hash_lists
from webapp.services.photos.photos import iso
from webapp.views.params import (
    MAX_NOTE_LENGTH,
    MAX_PER_PAGE,
    bool_field,
    int_arg,
    int_field,
    json_object,
    string_field,
)

blueprint = Blueprint("banks_api", __name__, url_prefix="/api/banks")


@blueprint.get("")
@moderator_required
def list_banks():
    return jsonify(banks=[describe_bank(summary) for summary in banks.summaries()])


@blueprint.post("")
@admin_required
def create_bank():
    """A new bank: `{"name", "action": "reject"|"flag", "distance"?, "enabled"?}`."""
    body = json_object()
    distance = int_field(body, "distance", 0, MAX_DISTANCE)
    bank = banks.create_bank(
        string_field(body, "name", banks.NAME_LENGTH) or "",
        string_field(body, "action", 10) or "",
        DEFAULT_DISTANCE if distance is None else distance,
        bool_field(body, "enabled") is not False,
    )
    return jsonify(describe_bank(banks.summary(bank))), 201


@blueprint.get("/<bank_id>")
@moderator_required
def get_bank(bank_id: str):
    return jsonify(describe_bank(banks.summary(banks.get_bank(bank_id))))


@blueprint.patch("/<bank_id>")
@admin_required
def update_bank(bank_id: str):
    """Change a bank's name, action, distance or whether it matches; each field optional."""
    bank = banks.get_bank(bank_id)
    body = json_object()
    banks.update_bank(
        bank,
        name=string_field(body, "name", banks.NAME_LENGTH),
        action=string_field(body, "action", 10),
        distance=int_field(body, "distance", 0, MAX_DISTANCE),
        enabled=bool_field(body, "enabled"),
    )
    return jsonify(describe_bank(banks.summary(bank)))


@blueprint.get("/<bank_id>/entries")
@moderator_required
def list_entries(bank_id: str):
    bank = banks.get_bank(bank_id)
    page, per_page = int_arg("page", 1), int_arg("per_page", 50, MAX_PER_PAGE)
    rows, total = banks.entries(bank, page, per_page)
    return jsonify(
        entries=[describe_entry(entry) for entry in rows], page=page, per_page=per_page, total=total
    )


@blueprint.post("/<bank_id>/entries")
@moderator_required
def add_entry(bank_id: str):
    """Add a PDQ hash by hand: `{"pdq_hash", "note"?}`; 201 if new, 200 if the bank had it."""
    bank = banks.get_bank(bank_id)
    body = json_object()
    entry, created = banks.add_entry(
        bank,
        string_field(body, "pdq_hash", 200) or "",
        string_field(body, "note", MAX_NOTE_LENGTH),
        current_user,
    )
    return jsonify(describe_entry(entry)), 201 if created else 200


@blueprint.patch("/<bank_id>/entries/<entry_id>")
@admin_required
def update_entry(bank_id: str, entry_id: str):
    """Disable an entry (a false positive) or enable it again, or change its note."""
    entry = banks.get_entry(banks.get_bank(bank_id), entry_id)
    body = json_object()
    banks.set_entry(
        entry, enabled=bool_field(body, "enabled"), note=string_field(body, "note", MAX_NOTE_LENGTH)
    )
    return jsonify(describe_entry(entry))


@blueprint.post("/<bank_id>/import")
@admin_required
def import_hashes(bank_id: str):
    """A hash list, one PDQ hash per line with an optional note column; all lines or none."""
    bank = banks.get_bank(bank_id)
    added = hash_lists.import_hashes(bank, hash_list_stream(), current_user)
    return jsonify(added=added.added, already_present=added.present)


@blueprint.get("/<bank_id>/export")
@moderator_required
def export_hashes(bank_id: str):
    """The bank's enabled entries as the hash list import reads, streamed as CSV."""
    bank = banks.get_bank(bank_id)
    return Response(
        stream_with_context(hash_lists.export_hashes(bank)),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{export_filename(bank)}"'},
    )


def hash_list_stream() -> IO[bytes]:
    """The uploaded hash list, to be read a line at a time: the multipart field 'file', or the body."""
    upload = request.files.get("file")
    if upload:
        return upload.stream
    if request.mimetype.startswith("multipart/"):
        raise hash_lists.MissingHashList()
    # Buffered, so that reading a line is not a read call per byte.
    return io.BufferedReader(request.stream)


def export_filename(bank: Bank) -> str:
    safe = "".join(char if char.isalnum() or char in "-_" else "-" for char in bank.name)
    return f"bank-{safe.strip('-') or bank.id}.csv"


def describe_bank(summary: banks.BankSummary) -> dict:
    bank = summary.bank
    return {
        "id": str(bank.id),
        "name": bank.name,
        "action": bank.action.value,
        "distance": bank.distance,
        "enabled": bank.enabled,
        "receives_review_rejects": bank.name == current_app.config["REVIEW_REJECTS_BANK"].strip(),
        "entries": summary.entries,
        "enabled_entries": summary.enabled_entries,
        "matches": summary.matches,
        "created_at": iso(bank.created_at),
    }


def describe_entry(entry: BankEntry) -> dict:
    return {
        "id": str(entry.id),
        "bank_id": str(entry.bank_id),
        "pdq_hash": entry.pdq_hash,
        "crop_hashes": len(entry.hashes()) - 1,
        "origin": entry.origin.value,
        "origin_image_id": str(entry.origin_image_id) if entry.origin_image_id else None,
        "added_by": entry.added_by_email,
        "note": entry.note,
        "enabled": entry.enabled,
        "created_at": iso(entry.created_at),
    }
