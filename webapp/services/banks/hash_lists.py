"""Hash lists in and out, in the format the field exchanges: one PDQ hash per line, an optional note.

A list is a text or CSV file; blank lines and a header line (`pdq,note`) are allowed. Each line
(ending in LF or CRLF) is read on its own, so no quote can join two lines: every line is an entry
or a malformed line named by its number and shown by its start. An import adds every entry or, if a
line is malformed, none; it names the first MAX_REPORTED malformed lines and counts them all, so
neither its memory nor its answer grows with a file of garbage.

An export is also opened in spreadsheets, which run a cell that starts like a formula: a note that
does (OWASP's CSV injection list) is written after a `'`, which an import takes off again.
"""

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

from sqlalchemy import select

from webapp.errors import AppError
from webapp.extensions import db
from webapp.models import Bank, BankEntry, EntryOrigin, User
from webapp.services.banks import bank_entries
from webapp.services.banks.bank_entries import NOTE_LENGTH, PDQ_HEX, Added, NewEntry, clean_note

# Lines of a hash list that are not hashes but a header naming the columns.
HEADERS = ({"pdq"}, {"pdq", "note"}, {"hash"}, {"hash", "note"})
MAX_REPORTED = 100
# A malformed line is shown by its first characters: enough to find it in the file, bounded in every answer.
SHOWN_CHARACTERS = 80
# A hash and a quoted note of NOTE_LENGTH characters fit with room to spare (4 bytes a character,
# every quote doubled); a longer line is malformed and is skipped without being held.
MAX_LINE_BYTES = 16 * 1024
# What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
# Category Cc: C0, DEL and C1. A bare CR is one; so is a tab, which no hash or note needs.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class MissingHashList(AppError):
    code = "missing_hash_list"
    status = 400
    message = "Send the hash list as the body (text/plain or text/csv) or as the multipart field 'file'."


@dataclass
class Malformed:
    """The malformed lines of a list: the first MAX_REPORTED, each `{line, error, content}`, and how many
    in all."""

    shown: list[dict] = field(default_factory=list)
    count: int = 0

    def add(self, line: int, error: str, raw: bytes, whole: bool) -> None:
        self.count += 1
        if len(self.shown) < MAX_REPORTED:
            self.shown.append({"line": line, "error": error, "content": _shown(raw, whole)})


def _shown(raw: bytes, whole: bool) -> str:
    """The start of a line as a person can read it: bytes that are not UTF-8 and control characters
    as `\\xNN`, cut to SHOWN_CHARACTERS with an ellipsis if there is more (`whole` False: there is)."""
    # Four bytes at most per character: this is enough bytes for SHOWN_CHARACTERS characters.
    head = raw[: 4 * SHOWN_CHARACTERS]
    text = CONTROL.sub(_escape, head.decode("utf-8", "backslashreplace"))
    if whole and len(head) == len(raw) and len(text) <= SHOWN_CHARACTERS:
        return text
    return text[: SHOWN_CHARACTERS - 1] + "…"


def _escape(control: re.Match) -> str:
    return f"\\x{ord(control.group()):02x}"


class InvalidHashList(AppError):
    """A hash list with malformed lines: the first ones named by number, all counted; nothing imported."""

    code = "invalid_hash_list"
    status = 422

    def __init__(self, malformed: Malformed):
        shown = "; ".join(f"line {error['line']}: {error['error']}" for error in malformed.shown[:10])
        more = f" (and {malformed.count - 10:,} more)" if malformed.count > 10 else ""
        super().__init__(f"Nothing was imported: {malformed.count:,} malformed line(s). {shown}{more}")
        self.details = {"lines": malformed.shown, "malformed_lines": malformed.count}


class _LineError(Exception):
    """Why a line is not an entry."""


def import_hashes(bank: Bank, stream: IO[bytes], user: User) -> Added:
    """Every hash of the hash list read from `stream`, or none if a line is malformed (InvalidHashList
    names the first MAX_REPORTED and counts all); the bank's hashes already are counted, not added again.

    Lines are read one at a time and added as they come, in one transaction that is rolled back if
    any was malformed, so a list of millions is never held in memory whole.
    """
    malformed = Malformed()
    listed = _Listing(stream, malformed)
    added = bank_entries.add(bank, EntryOrigin.IMPORT, user, listed)
    if malformed.count or not listed.has_content:
        db.session.rollback()
        if malformed.count:
            raise InvalidHashList(malformed)
        raise MissingHashList()
    db.session.commit()
    return added


@dataclass
class _Listing:
    """The entries a hash list names, as an iterable; each malformed line goes to `malformed` instead
    (and, once there is one, nothing more is handed on to be added)."""

    stream: IO[bytes]
    malformed: Malformed
    has_content: bool = False

    def __iter__(self) -> Iterator[NewEntry]:
        for number, (line, whole) in enumerate(_physical_lines(self.stream), start=1):
            try:
                entry = _entry(number, line, whole)
            except _LineError as error:
                self.malformed.add(number, str(error), line, whole)
                continue
            self.has_content = self.has_content or bool(line.strip())
            if entry is not None and not self.malformed.count:
                yield entry


def _physical_lines(stream: IO[bytes]) -> Iterator[tuple[bytes, bool]]:
    """Each line of the stream without its LF or CRLF, and whether it is whole: a line past
    MAX_LINE_BYTES comes cut there, its rest read through in bounded pieces and dropped."""
    while line := stream.readline(MAX_LINE_BYTES + 1):
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while (rest := stream.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                pass
            yield line, False
        else:
            yield line.removesuffix(b"\n").removesuffix(b"\r"), True


def _entry(number: int, raw: bytes, whole: bool) -> NewEntry | None:
    """The entry one line names, None for a blank or header line; _LineError says why it is neither."""
    if not whole:
        raise _LineError(
            f"longer than {MAX_LINE_BYTES:,} bytes: a note has at most {NOTE_LENGTH:,} characters"
        )
    cells = [cell.strip() for cell in _cells(_text(number, raw))]
    if not any(cells) or (number == 1 and {cell.lower() for cell in cells if cell} in HEADERS):
        return None
    if len(cells) > 2:
        raise _LineError("expected a hash and at most one note")
    if not PDQ_HEX.fullmatch(pdq_hash := cells[0].lower()):
        raise _LineError("not a PDQ hash (64 hexadecimal digits)")
    note = _unescaped(cells[1]) if len(cells) == 2 else None
    if note is not None and len(note) > NOTE_LENGTH:
        raise _LineError(f"a note of {len(note):,} characters (at most {NOTE_LENGTH:,})")
    # Already as clean_note would keep it: trimmed, without control characters, short enough.
    return NewEntry(pdq_hash, note or None)


def _text(number: int, raw: bytes) -> str:
    try:
        # A byte order mark may open the file, as spreadsheets write it.
        line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError:
        raise _LineError("not UTF-8 text") from None
    if "\x00" in line:
        raise _LineError("a NUL character: this is not a text file")
    if control := CONTROL.search(line):
        raise _LineError(
            f"a control character (U+{ord(control.group()):04X}): lines end in LF or CRLF, and "
            "neither a hash nor a note has one"
        )
    return line


def _cells(line: str) -> list[str]:
    if '"' not in line:
        return line.split(",")
    try:
        # Strict: a quote left open is an error here, never a field running on into the next line.
        return next(csv.reader([line], strict=True))
    except csv.Error:
        raise _LineError("a quote is not closed, or a closing quote is not followed by a comma") from None


def _escaped(note: str) -> str:
    """The note as an export writes it: after a `'` if it would start a formula once quotes are read
    off (so `'=…` and `''=…` get one too, and come back as they were)."""
    return ESCAPE + note if note.lstrip(ESCAPE).startswith(FORMULA_STARTS) else note


def _unescaped(note: str) -> str:
    """The note an export wrote as `note`: without the `'` _escaped put before it."""
    return note[1:] if note.startswith(ESCAPE) and note.lstrip(ESCAPE).startswith(FORMULA_STARTS) else note


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
        # Cleaned again for notes kept before line breaks were taken out of them: one entry, one line.
        note = clean_note(note)
        line = io.StringIO()
        csv.writer(line, lineterminator="\n").writerow([pdq_hash, _escaped(note)] if note else [pdq_hash])
        yield line.getvalue()
