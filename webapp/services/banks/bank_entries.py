"""Adding entries to a bank: the one way hashes join a bank, whoever adds them.

Each call takes the next bank revision (see `BankRevision`) in the caller's transaction and stamps
its rows with it, which is how workers learn of new entries; hashes the bank has already are
skipped and counted.
"""

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite

from webapp.extensions import db
from webapp.models import Bank, BankEntry, BankRevision, EntryOrigin, User
from webapp.models.types import utcnow

# PDQ's textual form, as threatexchange's PdqSignal validates it: 64 lowercase hex digits.
PDQ_HEX = re.compile(r"[0-9a-f]{64}")
NOTE_LENGTH = 2000
CHUNK = 20_000
# Control characters (category Cc) in a note: the spacing ones become a space, the rest are dropped,
# so a note is one line wherever it goes, an exported hash list too.
_NOTE_CONTROLS = {code: " " if chr(code).isspace() else None for code in [*range(0x20), *range(0x7F, 0xA0)]}


@dataclass(frozen=True)
class NewEntry:
    """A hash joining a bank, with what the bank keeps beside it."""

    pdq_hash: str
    note: str | None = None
    origin_image_id: uuid.UUID | None = None
    crop_hashes: str | None = None


@dataclass(frozen=True)
class Added:
    """What adding hashes did: how many became entries, and how many the bank had already."""

    added: int
    present: int

    def __add__(self, other: "Added") -> "Added":
        return Added(self.added + other.added, self.present + other.present)


def add(bank: Bank, origin: EntryOrigin, user: User | None, entries: Iterable[NewEntry]) -> Added:
    """Add the entries the bank lacks under the next revision, in chunks (an iterator of millions is
    never held whole); the caller commits, or rolls back."""
    revision = next_revision()
    common = {
        "bank_id": bank.id,
        "origin": origin,
        "added_by_id": user.id if user else None,
        "added_by_email": user.email if user else None,
        "revision": revision,
    }
    write = _write_set_based if db.engine.dialect.name == "postgresql" else _write_each
    added = present = 0
    entries = iter(entries)
    while chunk := list(islice(entries, CHUNK)):
        written = write(common, chunk)
        added, present = added + written, present + len(chunk) - written
    return Added(added, present)


def clean_note(note: str | None) -> str | None:
    """A note as kept: one line (line breaks and tabs made spaces, other control characters dropped,
    NUL among them, which no text column takes), trimmed, at most NOTE_LENGTH characters, None when
    empty."""
    return (note or "").translate(_NOTE_CONTROLS).strip()[:NOTE_LENGTH] or None


def _write_set_based(common: dict, chunk: list[NewEntry]) -> int:
    """Thousands of entries in one INSERT … SELECT FROM unnest(…): a million-line list in seconds."""
    columns = {
        name: [getattr(entry, name) for entry in chunk]
        for name in ("pdq_hash", "note", "origin_image_id", "crop_hashes")
    }
    columns["origin_image_id"] = [str(value) if value else None for value in columns["origin_image_id"]]
    values = common | {
        "bank_id": str(common["bank_id"]),
        "origin": common["origin"].value,
        "added_by_id": str(common["added_by_id"]) if common["added_by_id"] else None,
    }
    return db.session.execute(_INSERT_SET_BASED, values | columns).scalar_one()


_INSERT_SET_BASED = text(
    """
    WITH added AS (
        INSERT INTO hash_bank_entries
               (id, bank_id, pdq_hash, note, origin_image_id, crop_hashes, origin, added_by_id,
                added_by_email, enabled, revision, created_at, updated_at)
        SELECT gen_random_uuid(), CAST(:bank_id AS uuid), r.pdq_hash, r.note, r.origin_image_id,
               r.crop_hashes, CAST(:origin AS bank_entry_origin), CAST(:added_by_id AS uuid),
               :added_by_email, true, :revision, now(), now()
          FROM unnest(CAST(:pdq_hash AS text[]), CAST(:note AS text[]), CAST(:origin_image_id AS uuid[]),
                      CAST(:crop_hashes AS text[])) AS r(pdq_hash, note, origin_image_id, crop_hashes)
        ON CONFLICT (bank_id, pdq_hash) DO NOTHING
        RETURNING 1
    )
    SELECT count(*) FROM added
    """
)


def _write_each(common: dict, chunk: list[NewEntry]) -> int:
    """The embedded SQLite database's way (it has no arrays to unnest): rows in batches, skipping hashes
    the bank has."""
    now = utcnow()
    rows = [
        common
        | {
            "id": uuid.uuid4(),
            "pdq_hash": entry.pdq_hash,
            "note": entry.note,
            "origin_image_id": entry.origin_image_id,
            "crop_hashes": entry.crop_hashes,
            "enabled": True,
            "created_at": now,
            "updated_at": now,
        }
        for entry in chunk
    ]
    statement = (
        sqlite.insert(BankEntry)
        .on_conflict_do_nothing(index_elements=["bank_id", "pdq_hash"])
        .returning(BankEntry.id)
    )
    return len(db.session.execute(statement, rows).all())


def next_revision() -> int:
    """Take the next bank revision; the row stays locked until this transaction ends."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(BankRevision)
        .values(id=1, epoch=uuid.uuid4(), revision=1)
        .on_conflict_do_update(index_elements=["id"], set_={"revision": BankRevision.revision + 1})
        .returning(BankRevision.revision)
    )
    return db.session.execute(statement).scalar_one()
