"""Filtering listings of photos by their verdict, processing state and filename, and counting per filter
value."""

from collections.abc import Iterable
from dataclasses import dataclass

from webapp.models import ModerationStatus, PhotoSession, SessionStatus, VirtualImage


@dataclass(frozen=True)
class PhotoFilter:
    """The photos a listing keeps: those with one of `verdicts`, in one of `states` and whose original
    filename contains `filename` (any case); an empty set or string keeps every value."""

    verdicts: frozenset[ModerationStatus] = frozenset()
    states: frozenset[SessionStatus] = frozenset()
    filename: str = ""

    @property
    def active(self) -> bool:
        return bool(self.verdicts or self.states or self.filename)

    @property
    def reads_images(self) -> bool:
        """Whether the conditions name VirtualImage, so a listing of sessions has to join it."""
        return bool(self.verdicts or self.filename)

    def conditions(self) -> list:
        """WHERE clauses on VirtualImage and PhotoSession: the caller joins those the clauses name."""
        clauses = []
        if self.verdicts:
            clauses.append(VirtualImage.moderation_status.in_(self.verdicts))
        if self.states:
            clauses.append(PhotoSession.status.in_(self.states))
        if self.filename:
            clauses.append(self.named())
        return clauses

    def named(self):
        """Whether a photo's original filename contains `filename`, in any case; `%` and `_` in it are
        the characters themselves, not LIKE's wildcards."""
        return VirtualImage.original_filename.icontains(self.filename, autoescape=True)

    def keeps(self, state: SessionStatus, verdict: ModerationStatus | None) -> bool:
        return (not self.verdicts or verdict in self.verdicts) and (not self.states or state in self.states)

    def choices(self) -> dict[str, list[tuple[ModerationStatus | SessionStatus, bool]]]:
        """Every value of each filter, by its query parameter, and whether it is chosen: what a form shows."""
        return {
            "verdict": [(verdict, verdict in self.verdicts) for verdict in ModerationStatus],
            "state": [(state, state in self.states) for state in SessionStatus],
        }

    def args(self) -> dict[str, list[str]]:
        """The filter as query parameters, in a steady order: for links that keep it."""
        choices = self.choices().items()
        chosen = {name: [value.value for value, chosen in options if chosen] for name, options in choices}
        # The filename first, as the page's search box sends it.
        return ({"filename": [self.filename]} if self.filename else {}) | chosen


NO_FILTER = PhotoFilter()


@dataclass(frozen=True)
class FilterCounts:
    """Photos per filter value, each counted under the other filters (what choosing that value would
    show), those the whole filter keeps, and all of them."""

    verdicts: dict[ModerationStatus, int]
    states: dict[SessionStatus, int]
    matching: int
    everything: int


def count(
    tally: Iterable[tuple[SessionStatus, ModerationStatus | None, bool | None, int]], filters: PhotoFilter
) -> FilterCounts:
    """The counts of a listing from its photos grouped by (state, verdict, whether the filename
    matches); a photo whose image is not made yet has no verdict and no filename."""
    verdicts = dict.fromkeys(ModerationStatus, 0)
    states = dict.fromkeys(SessionStatus, 0)
    matching = everything = 0
    for state, verdict, named, photos in tally:
        everything += photos
        if not named:
            continue
        if verdict is not None and (not filters.states or state in filters.states):
            verdicts[verdict] += photos
        if not filters.verdicts or verdict in filters.verdicts:
            states[state] += photos
        if filters.keeps(state, verdict):
            matching += photos
    return FilterCounts(verdicts, states, matching, everything)
