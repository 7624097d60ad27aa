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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby, islice

from flask import current_app
from PIL import Image
from sqlalchemy import delete, func, select, text
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
    ModerationStatus,
    User,
    VirtualImage,
)
from webapp.models.banks import DEFAULT_DISTANCE, MAX_DISTANCE
from webapp.models.types import utcnow
from webapp.services.verdicts import MANUAL
from webapp.storage import ObjectMissing, get_storage

log = logging.getLogger(__name__)

# PDQ's textual form, as threatexchange's PdqSignal validates it: 64 lowercase hex digits.
PDQ_HEX = re.compile(r"[0-9a-f]{64}")
NOTE_LENGTH = 2000
NAME_LENGTH = 100
INSERT_CHUNK = 20_000
BACKFILL_BATCH = 200
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
    added = _insert(bank, EntryOrigin.MANUAL, user, [NewEntry(pdq_hash, _note(note))])
    db.session.commit()
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


def import_hashes(bank: Bank, text: str, user: User) -> Added:
    """Every hash of a hash list, or none if a line is malformed (InvalidHashList names each); the
    bank's hashes already are counted, not added again.

    A list is one PDQ hash per line with an optional note column (text or CSV); blank lines and a
    header line are allowed. Lines are added as they are read, in one transaction that is rolled
    back if any was malformed, so a list of millions is never held in memory whole.
    """
    errors: list[dict] = []
    added = _insert(bank, EntryOrigin.IMPORT, user, _listed_entries(text, errors))
    if errors:
        db.session.rollback()
        raise InvalidHashList(errors)
    db.session.commit()
    return added


def _listed_entries(text: str, errors: list[dict]) -> Iterator[NewEntry]:
    """The entries a hash list names; each malformed line is appended to `errors` instead."""
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
            yield NewEntry(pdq_hash, _note(cells[1]) if len(cells) == 2 else None)


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


def add_rejected(images: list[VirtualImage], reviewer: User | None) -> Added:
    """A person rejected these images: their hashes, and their centre crops', join the review bank.

    An image with no hash yet, or one too flat to match on, is left out.
    """
    bank = review_bank()
    usable = [image for image in images if image.pdq_hash and (image.pdq_quality or 0) >= MIN_QUALITY]
    if bank is None or not usable:
        return Added(0, 0)
    entries = [NewEntry(image.pdq_hash, None, image.id, _crop_hashes(image)) for image in usable]
    added = _insert(bank, EntryOrigin.REVIEW, reviewer, entries)
    db.session.commit()
    return added


def bank_past_rejections() -> Added:
    """Every image whose verdict is a person's rejection and that the review bank lacks joins it,
    each credited to its reviewer; walked in id order, so it is safe to run again or beside reviews."""
    bank = review_bank()
    total, after = Added(0, 0), None
    while bank is not None and (batch := _past_rejections(bank, after)):
        for reviewer_id, images in groupby(batch, key=lambda image: image.reviewed_by_id):
            reviewer = db.session.get(User, reviewer_id) if reviewer_id else None
            added = add_rejected(list(images), reviewer)
            total = Added(total.added + added.added, total.present + added.present)
        after = max(image.id for image in batch)
    return total


def _past_rejections(bank: Bank, after: uuid.UUID | None) -> list[VirtualImage]:
    """The next images after `after` that a person rejected, with a hash to match on, not in `bank`."""
    banked = select(BankEntry.origin_image_id).where(
        BankEntry.bank_id == bank.id, BankEntry.origin_image_id.is_not(None)
    )
    query = (
        select(VirtualImage)
        .where(
            VirtualImage.moderation_status == ModerationStatus.REJECTED,
            VirtualImage.source == MANUAL,
            VirtualImage.pdq_quality >= MIN_QUALITY,
            VirtualImage.id.not_in(banked),
        )
        .order_by(VirtualImage.id)
        .limit(BACKFILL_BATCH)
    )
    if after is not None:
        query = query.where(VirtualImage.id > after)
    return sorted(db.session.scalars(query), key=lambda image: str(image.reviewed_by_id))


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


def _insert(bank: Bank, origin: EntryOrigin, user: User | None, entries: Iterable[NewEntry]) -> Added:
    """Add the entries the bank lacks under the next revision; the caller commits (or rolls back)."""
    revision = _next_revision()
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
    while chunk := list(islice(entries, INSERT_CHUNK)):
        written = write(common, chunk)
        added, present = added + written, present + len(chunk) - written
    return Added(added, present)


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
