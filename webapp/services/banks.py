"""Hash banks as admins keep them: banks, entries, hash lists in and out, and what reviews add.

Every change that adds entries takes the next bank revision in its own transaction (see
`BankRevision`), which is how workers learn of them; enabling and disabling need no revision,
because a match is checked against the database when it is found.
"""

import csv
import io
import logging
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app
from PIL import Image
from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from webapp.errors import AppError, NotFound, parse_id
from webapp.extensions import db
from webapp.imaging import MIN_QUALITY, crop_fingerprints
from webapp.models import (
    Bank,
    BankAction,
    BankEntry,
    BankRevision,
    EntryOrigin,
    ImageKind,
    User,
    VirtualImage,
)
from webapp.models.banks import DEFAULT_DISTANCE, MAX_DISTANCE
from webapp.models.types import utcnow
from webapp.storage import ObjectMissing, get_storage

log = logging.getLogger(__name__)

# PDQ's textual form, as threatexchange's PdqSignal validates it: 64 lowercase hex digits.
PDQ_HEX = re.compile(r"[0-9a-f]{64}")
NOTE_LENGTH = 2000
NAME_LENGTH = 100
INSERT_CHUNK = 5000
# Lines of a hash list that are not hashes but a header naming the columns.
HEADERS = ({"pdq"}, {"pdq", "note"}, {"hash"}, {"hash", "note"})


class BankNameTaken(AppError):
    code = "bank_exists"
    status = 409
    message = "A bank with that name exists already."


class InvalidBank(AppError):
    code = "invalid_bank"
    status = 422


class InvalidHash(AppError):
    code = "invalid_pdq_hash"
    status = 422
    message = "A PDQ hash is 64 hexadecimal digits."


class InvalidHashList(AppError):
    """A hash list with malformed lines: each is named by its number, and nothing was imported."""

    code = "invalid_hash_list"
    status = 422

    def __init__(self, errors: list[dict]):
        shown = "; ".join(f"line {error['line']}: {error['error']}" for error in errors[:10])
        more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
        super().__init__(f"Nothing was imported: {len(errors)} malformed line(s). {shown}{more}")
        self.details = {"lines": errors}


@dataclass(frozen=True)
class BankSummary:
    bank: Bank
    entries: int
    enabled_entries: int
    matches: int


@dataclass(frozen=True)
class Added:
    """What adding hashes did: how many became entries, and how many the bank had already."""

    added: int
    present: int


def summaries() -> list[BankSummary]:
    """Every bank with its entry counts and how many images it matched, by name."""
    entries = (
        select(
            BankEntry.bank_id,
            func.count().label("entries"),
            func.count().filter(BankEntry.enabled).label("enabled_entries"),
        )
        .group_by(BankEntry.bank_id)
        .subquery()
    )
    matches = (
        select(BankEntry.bank_id, func.count().label("matches"))
        .join(VirtualImage, VirtualImage.matched_entry_id == BankEntry.id)
        .group_by(BankEntry.bank_id)
        .subquery()
    )
    rows = db.session.execute(
        select(
            Bank,
            func.coalesce(entries.c.entries, 0),
            func.coalesce(entries.c.enabled_entries, 0),
            func.coalesce(matches.c.matches, 0),
        )
        .outerjoin(entries, entries.c.bank_id == Bank.id)
        .outerjoin(matches, matches.c.bank_id == Bank.id)
        .order_by(Bank.name)
    ).all()
    return [BankSummary(*row) for row in rows]


def summary(bank: Bank) -> BankSummary:
    return next(each for each in summaries() if each.bank.id == bank.id)


def recent_matches(bank: Bank | None = None, limit: int = 20) -> list[tuple[VirtualImage, BankEntry, Bank]]:
    """The images banks decided most recently (of one bank, or of all), with the entry and bank."""
    query = (
        select(VirtualImage, BankEntry, Bank)
        .join(BankEntry, BankEntry.id == VirtualImage.matched_entry_id)
        .join(Bank, Bank.id == BankEntry.bank_id)
        .order_by(VirtualImage.updated_at.desc())
        .limit(limit)
    )
    if bank is not None:
        query = query.where(Bank.id == bank.id)
    return [tuple(row) for row in db.session.execute(query)]


def get_bank(bank_id: object) -> Bank:
    bank = db.session.get(Bank, parse_id(bank_id))
    if bank is None:
        raise NotFound()
    return bank


def get_entry(bank: Bank, entry_id: object) -> BankEntry:
    entry = db.session.get(BankEntry, parse_id(entry_id))
    if entry is None or entry.bank_id != bank.id:
        raise NotFound()
    return entry


def create_bank(name: str, action: str, distance: int = DEFAULT_DISTANCE, enabled: bool = True) -> Bank:
    """A new bank; its name must be new."""
    bank = Bank(name=_name(name), action=_action(action), distance=_distance(distance), enabled=enabled)
    _ensure_name_free(bank.name)
    db.session.add(bank)
    db.session.commit()
    return bank


def update_bank(
    bank: Bank,
    *,
    name: str | None = None,
    action: str | None = None,
    distance: int | None = None,
    enabled: bool | None = None,
) -> Bank:
    """Change what was given; workers see it at their next match."""
    if name is not None and _name(name) != bank.name:
        _ensure_name_free(_name(name))
        bank.name = _name(name)
    if action is not None:
        bank.action = _action(action)
    if distance is not None:
        bank.distance = _distance(distance)
    if enabled is not None:
        bank.enabled = enabled
    db.session.commit()
    return bank


def entries(bank: Bank, page: int, per_page: int) -> tuple[list[BankEntry], int]:
    """A page of the bank's entries, newest first, and how many it has."""
    query = select(BankEntry).where(BankEntry.bank_id == bank.id)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        query.options(selectinload(BankEntry.origin_image))
        .order_by(BankEntry.created_at.desc(), BankEntry.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return list(rows), total


def add_entry(bank: Bank, pdq_hash: str, note: str | None, user: User) -> tuple[BankEntry, bool]:
    """One hash added by hand, and whether it is new to the bank (a hash it has keeps its entry)."""
    pdq_hash = pdq_hash.strip().lower()
    if not PDQ_HEX.fullmatch(pdq_hash):
        raise InvalidHash()
    added = _insert([_row(bank, pdq_hash, _note(note), EntryOrigin.MANUAL, user)])
    entry = db.session.scalars(
        select(BankEntry).where(BankEntry.bank_id == bank.id, BankEntry.pdq_hash == pdq_hash)
    ).one()
    return entry, bool(added.added)


def set_entry(entry: BankEntry, *, enabled: bool | None = None, note: str | None = None) -> BankEntry:
    """Disable an entry (a false positive) or enable it again, or change its note."""
    if enabled is not None:
        entry.enabled = enabled
    if note is not None:
        entry.note = _note(note)
    db.session.commit()
    return entry


def parse_hash_list(text: str) -> list[tuple[str, str | None]]:
    """The (hash, note) of each line of a text or CSV hash list: one PDQ hash per line, an optional
    note in a second column, blank lines and a header line allowed. InvalidHashList names every
    malformed line."""
    parsed, errors = [], []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells) or (number == 1 and {cell.lower() for cell in cells if cell} in HEADERS):
            continue
        pdq_hash = cells[0].lower()
        if len(cells) > 2:
            errors.append({"line": number, "error": "expected a hash and at most one note"})
        elif not PDQ_HEX.fullmatch(pdq_hash):
            errors.append({"line": number, "error": "not a PDQ hash (64 hexadecimal digits)"})
        else:
            parsed.append((pdq_hash, _note(cells[1]) if len(cells) == 2 else None))
    if errors:
        raise InvalidHashList(errors)
    return parsed


def import_hashes(bank: Bank, text: str, user: User) -> Added:
    """Every hash of a hash list, or none if a line is malformed; hashes the bank has are counted."""
    parsed = parse_hash_list(text)
    return _insert([_row(bank, pdq_hash, note, EntryOrigin.IMPORT, user) for pdq_hash, note in parsed])


def export_hashes(bank: Bank) -> Iterable[str]:
    """The bank's enabled entries as the hash list `import_hashes` reads: `hash[,note]` per line,
    oldest first (an import's lines by hash)."""
    query = (
        select(BankEntry.pdq_hash, BankEntry.note)
        .where(BankEntry.bank_id == bank.id, BankEntry.enabled)
        .order_by(BankEntry.created_at, BankEntry.pdq_hash)
        .execution_options(yield_per=INSERT_CHUNK)
    )
    for pdq_hash, note in db.session.execute(query):
        line = io.StringIO()
        csv.writer(line, lineterminator="\n").writerow([pdq_hash, note] if note else [pdq_hash])
        yield line.getvalue()


def review_bank() -> Bank | None:
    """The bank images rejected in review join (REVIEW_REJECTS_BANK names it, '' for none); made on
    first use as a reject bank."""
    name = current_app.config["REVIEW_REJECTS_BANK"].strip()
    if not name:
        return None
    bank = db.session.scalars(select(Bank).where(Bank.name == name)).first()
    if bank is None:
        bank = create_bank(name, BankAction.REJECT)
    return bank


def add_rejected(images: list[VirtualImage], reviewer: User) -> Added:
    """A person rejected these images: their hashes, and their centre crops', join the review bank.

    An image with no hash yet, or one too flat to match on, is left out.
    """
    bank = review_bank()
    usable = [image for image in images if image.pdq_hash and (image.pdq_quality or 0) >= MIN_QUALITY]
    if bank is None or not usable:
        return Added(0, 0)
    rows = [
        _row(bank, image.pdq_hash, None, EntryOrigin.REVIEW, reviewer)
        | {"origin_image_id": image.id, "crop_hashes": _crop_hashes(image)}
        for image in usable
    ]
    return _insert(rows)


def remove_approved(images: list[VirtualImage]) -> int:
    """A person approved these images: the entries their rejection added are taken out again."""
    removed = db.session.execute(
        delete(BankEntry).where(
            BankEntry.origin == EntryOrigin.REVIEW,
            BankEntry.origin_image_id.in_([image.id for image in images]),
        )
    ).rowcount
    db.session.commit()
    return removed


def _crop_hashes(image: VirtualImage) -> str | None:
    """The hashes of the image's centre crops, from its stored thumbnail (PDQ sees 64x64 anyway)."""
    thumbnail = image.session.image(ImageKind.THUMBNAIL_PROCESSED)
    if thumbnail is None:
        return None
    try:
        pixels = Image.open(io.BytesIO(get_storage().get(thumbnail.key)))
    except ObjectMissing:
        log.warning("thumbnail missing: no crop hashes", extra={"virtual_image_id": str(image.id)})
        return None
    return "".join(crop.pdq for crop in crop_fingerprints(pixels))


def _row(bank: Bank, pdq_hash: str, note: str | None, origin: EntryOrigin, user: User) -> dict:
    return {
        "bank_id": bank.id,
        "pdq_hash": pdq_hash,
        "note": note,
        "origin": origin,
        "added_by_id": user.id,
        "added_by_email": user.email,
    }


def _insert(rows: list[dict]) -> Added:
    """Insert the entries a bank lacks, stamped with the next revision, in one transaction."""
    if not rows:
        return Added(0, 0)
    revision = _next_revision()
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    added, now = 0, utcnow()
    stamped = {
        "enabled": True,
        "revision": revision,
        "crop_hashes": None,
        "created_at": now,
        "updated_at": now,
    }
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = [{"id": uuid.uuid4()} | stamped | row for row in rows[start : start + INSERT_CHUNK]]
        statement = (
            dialect.insert(BankEntry)
            .on_conflict_do_nothing(index_elements=["bank_id", "pdq_hash"])
            .returning(BankEntry.id)
        )
        added += len(db.session.execute(statement, chunk).all())
    db.session.commit()
    return Added(added, len(rows) - added)


def _next_revision() -> int:
    """Take the next bank revision; the row stays locked until this transaction ends."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(BankRevision)
        .values(id=1, epoch=uuid.uuid4(), revision=1)
        .on_conflict_do_update(index_elements=["id"], set_={"revision": BankRevision.revision + 1})
        .returning(BankRevision.revision)
    )
    return db.session.execute(statement).scalar_one()


def _ensure_name_free(name: str) -> None:
    if db.session.scalar(select(func.count()).select_from(Bank).where(Bank.name == name)):
        raise BankNameTaken()


def _name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > NAME_LENGTH:
        raise InvalidBank(f"A bank's name is 1 to {NAME_LENGTH} characters.")
    return name


def _action(action: str) -> BankAction:
    try:
        return BankAction(action)
    except ValueError:
        raise InvalidBank("A bank's action is 'reject' or 'flag'.") from None


def _distance(distance: int) -> int:
    if not 0 <= distance <= MAX_DISTANCE:
        raise InvalidBank(f"A bank's match distance is 0 to {MAX_DISTANCE} bits.")
    return distance


def _note(note: str | None) -> str | None:
    return (note or "").strip()[:NOTE_LENGTH] or None
