"""Reading the audit log: its events by image, actor, kind and time, newest first, a page at a time or
all of them as CSV."""

import csv
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import AuditEvent, AuditKind, User, VirtualImage
from webapp.models.users import MODERATING
from webapp.providers.registry import PROVIDERS
from webapp.services.banks.hash_lists import FORMULA_STARTS
from webapp.services.banks.hash_matching import DUPLICATE_OF, HASH_MATCH
from webapp.services.moderation.audit import SYSTEM
from webapp.services.paging import Paged
from webapp.services.photos.photos import iso

EXPORT_CHUNK = 1000
NEWEST_FIRST = (AuditEvent.at.desc(), AuditEvent.id.desc())
MACHINES = (*PROVIDERS, HASH_MATCH, DUPLICATE_OF, SYSTEM)
CSV_COLUMNS = ("id", "at", "kind", "actor", "actor_id", "virtual_image_id", "before", "after", "note")


@dataclass(frozen=True)
class AuditFilter:
    """The events a reading keeps: of one image, by one actor (an email or a provider's name, any case),
    of any of `kinds`, at or after `since` and before `until`; what is left empty keeps everything."""

    virtual_image_id: uuid.UUID | None = None
    actor: str = ""
    kinds: frozenset[AuditKind] = frozenset()
    since: datetime | None = None
    until: datetime | None = None

    @property
    def active(self) -> bool:
        return any((self.virtual_image_id, self.actor, self.kinds, self.since, self.until))

    def conditions(self) -> list:
        clauses = []
        if self.virtual_image_id:
            clauses.append(AuditEvent.virtual_image_id == self.virtual_image_id)
        if self.actor:
            # Emails are kept in lower case, and providers are named in it.
            clauses.append(AuditEvent.actor == self.actor.lower())
        if self.kinds:
            clauses.append(AuditEvent.kind.in_(self.kinds))
        if self.since:
            clauses.append(AuditEvent.at >= self.since)
        if self.until:
            clauses.append(AuditEvent.at < self.until)
        return clauses

    def args(self) -> dict[str, str | list[str]]:
        """The filter as query parameters: for links that keep it (pages, the export), and for a form's
        fields (moments in UTC to the second, as a `datetime-local` field shows them)."""
        given = {
            "virtual_image_id": str(self.virtual_image_id) if self.virtual_image_id else "",
            "actor": self.actor,
            "kind": sorted(kind.value for kind in self.kinds),
            "since": _utc_seconds(self.since),
            "until": _utc_seconds(self.until),
        }
        return {name: value for name, value in given.items() if value}


def _utc_seconds(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") if moment else ""


class AuditEntry(NamedTuple):
    """An event, and the photo of its image while that photo exists (to link to it)."""

    event: AuditEvent
    session_id: uuid.UUID | None


@dataclass(frozen=True)
class AuditPage(Paged):
    entries: list[AuditEntry]
    page: int
    per_page: int
    total: int  # the events that pass `filters`
    filters: AuditFilter


def events_page(filters: AuditFilter, page: int = 1, per_page: int = 50) -> AuditPage:
    """One page of the events that pass `filters`, newest first."""
    total = db.session.scalar(select(func.count()).select_from(AuditEvent).where(*filters.conditions()))
    rows = db.session.execute(
        select(AuditEvent, VirtualImage.session_id)
        .outerjoin(VirtualImage, VirtualImage.id == AuditEvent.virtual_image_id)
        .where(*filters.conditions())
        .order_by(*NEWEST_FIRST)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return AuditPage([AuditEntry(*row) for row in rows], page, per_page, total, filters)


def every_event(filters: AuditFilter) -> Iterator[AuditEvent]:
    """Every event that passes `filters`, newest first, read a chunk at a time however many there are."""
    query = select(AuditEvent).where(*filters.conditions()).order_by(*NEWEST_FIRST)
    yield from db.session.scalars(query.execution_options(yield_per=EXPORT_CHUNK))


def csv_lines(filters: AuditFilter) -> Iterator[str]:
    """The events that pass `filters` as CSV lines, a header first, newest first. A cell a spreadsheet
    would read as a formula (`=`, `+`, `-`, `@`, a tab or a carriage return first) starts with `'`."""
    yield _csv_line(CSV_COLUMNS)
    for event in every_event(filters):
        yield _csv_line(
            (
                event.id,
                iso(event.at),
                event.kind.value,
                event.actor,
                event.actor_id,
                event.virtual_image_id,
                event.before,
                event.after,
                event.note,
            )
        )


def spreadsheet_safe(cell: object) -> str:
    """The cell as text that no spreadsheet runs (OWASP's CSV injection): after a `'` if it would start a
    formula."""
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_line(cells) -> str:
    line = io.StringIO()
    csv.writer(line, lineterminator="\r\n").writerow([spreadsheet_safe(cell) for cell in cells])
    return line.getvalue()


def likely_actors() -> list[str]:
    """Who acts in the log, for a filter to suggest: the moderators and admins, then the machines."""
    people = select(User.email).where(User.role.in_(MODERATING)).order_by(User.email)
    return [*db.session.scalars(people), *MACHINES]
