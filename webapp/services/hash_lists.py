"""Hash lists in and out, in the format the field exchanges: one PDQ hash per line, an optional note.

A list is a text or CSV file; blank lines and a header line (`pdq,note`) are allowed. An import
adds every line or, if one is malformed, none, naming each such line by its number.
"""

import csv
import io
from collections.abc import Iterable, Iterator

from sqlalchemy import select

from webapp.errors import AppError
from webapp.extensions import db
from webapp.models import Bank, BankEntry, EntryOrigin, User
from webapp.services import bank_entries
from webapp.services.bank_entries import PDQ_HEX, Added, NewEntry, clean_note

# Lines of a hash list that are not hashes but a header naming the columns.
HEADERS = ({"pdq"}, {"pdq", "note"}, {"hash"}, {"hash", "note"})


class InvalidHashList(AppError):
    """A hash list with malformed lines: each is named by its number, and nothing was imported."""

    code = "invalid_hash_list"
    status = 422

    def __init__(self, errors: list[dict]):
        shown = "; ".join(f"line {error['line']}: {error['error']}" for error in errors[:10])
        more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
        super().__init__(f"Nothing was imported: {len(errors)} malformed line(s). {shown}{more}")
        self.details = {"lines": errors}


def import_hashes(bank: Bank, text: str, user: User) -> Added:
    """Every hash of a hash list, or none if a line is malformed (InvalidHashList names each); the
    bank's hashes already are counted, not added again.

    A list is one PDQ hash per line with an optional note column (text or CSV); blank lines and a
    header line are allowed. Lines are added as they are read, in one transaction that is rolled
    back if any was malformed, so a list of millions is never held in memory whole.
    """
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise InvalidHashList([{"line": line, "error": "a NUL character: this is not a text file"}])
    errors: list[dict] = []
    added = bank_entries.add(bank, EntryOrigin.IMPORT, user, _listed_entries(text, errors))
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
            yield NewEntry(pdq_hash, clean_note(cells[1]) if len(cells) == 2 else None)


def export_hashes(bank: Bank) -> Iterable[str]:
    """The bank's enabled entries as the hash list `import_hashes` reads: `hash[,note]` per line,
    oldest first (an import's lines by hash)."""
    query = (
        select(BankEntry.pdq_hash, BankEntry.note)
        .where(BankEntry.bank_id == bank.id, BankEntry.enabled)
        .order_by(BankEntry.created_at, BankEntry.pdq_hash)
        .execution_options(yield_per=bank_entries.CHUNK)
    )
    for pdq_hash, note in db.session.execute(query):
        line = io.StringIO()
        csv.writer(line, lineterminator="\n").writerow([pdq_hash, note] if note else [pdq_hash])
        yield line.getvalue()
