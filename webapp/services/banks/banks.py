"""Hash banks as admins keep them: banks, their settings, and their entries one by one.

Adding entries goes through `bank_entries`; enabling and disabling need nothing more, because a
worker checks a match against the database when it finds one.
"""

import unicodedata
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from webapp.errors import AppError, NotFound, parse_id
from webapp.extensions import db
from webapp.models import (
    Bank,
    BankAction,
    BankEntry,
    EntryOrigin,
    PhotoSession,
    User,
    VirtualImage,
)
from webapp.models.banks import DEFAULT_DISTANCE, MAX_DISTANCE
from webapp.services.banks import bank_entries
from webapp.services.banks.bank_entries import PDQ_HEX, NewEntry, clean_note

NAME_LENGTH = 100


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


@dataclass(frozen=True)
class BankSummary:
    bank: Bank
    entries: int
    enabled_entries: int
    matches: int


def summaries(bank: Bank | None = None) -> list[BankSummary]:
    """Every bank (or just `bank`) with its entry counts and how many images it matched, by name."""
    only = [BankEntry.bank_id == bank.id] if bank is not None else []
    entries = (
        select(
            BankEntry.bank_id,
            func.count().label("entries"),
            func.count().filter(BankEntry.enabled).label("enabled_entries"),
        )
        .where(*only)
        .group_by(BankEntry.bank_id)
        .subquery()
    )
    matches = (
        select(BankEntry.bank_id, func.count().label("matches"))
        .join(VirtualImage, VirtualImage.matched_entry_id == BankEntry.id)
        .where(*only)
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
        .where(*([Bank.id == bank.id] if bank is not None else []))
        .order_by(Bank.name)
    ).all()
    return [BankSummary(*row) for row in rows]


def summary(bank: Bank) -> BankSummary:
    """One bank's counts, counting its entries and matches only."""
    return summaries(bank)[0]


# Pages show each image's thumbnail, covered or not as the viewer's settings and the photo's owner decide.
_WITH_THUMBNAILS = selectinload(VirtualImage.session).selectinload(PhotoSession.images)


def recent_matches(bank: Bank | None = None, limit: int = 20) -> list[tuple[VirtualImage, BankEntry, Bank]]:
    """The images banks decided most recently (of one bank, or of all), with the entry and bank."""
    query = (
        select(VirtualImage, BankEntry, Bank)
        .join(BankEntry, BankEntry.id == VirtualImage.matched_entry_id)
        .join(Bank, Bank.id == BankEntry.bank_id)
        .options(_WITH_THUMBNAILS)
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
        query.options(selectinload(BankEntry.origin_image).options(_WITH_THUMBNAILS))
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
    added = bank_entries.add(bank, EntryOrigin.MANUAL, user, [NewEntry(pdq_hash, clean_note(note))])
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
        entry.note = clean_note(note)
    db.session.commit()
    return entry


def _ensure_name_free(name: str) -> None:
    if db.session.scalar(select(func.count()).select_from(Bank).where(Bank.name == name)):
        raise BankNameTaken()


def _name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > NAME_LENGTH:
        raise InvalidBank(f"A bank's name is 1 to {NAME_LENGTH} characters.")
    if any(unicodedata.category(char) == "Cc" for char in name):
        raise InvalidBank("A bank's name has no control characters.")
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
