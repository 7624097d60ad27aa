"""Filtering listings of photos by their verdict and processing state, and counting per filter value."""

from collections.abc import Iterable
from dataclasses import dataclass

from webapp.models import ModerationStatus, PhotoSession, SessionStatus, VirtualImage


@dataclass(frozen=True)
class PhotoFilter:
    """The photos a listing keeps: those with one of `verdicts` and in one of `states`; an empty set
    keeps every value."""

    verdicts: frozenset[ModerationStatus] = frozenset()
    states: frozenset[SessionStatus] = frozenset()

    @property
    def active(self) -> bool:
        return bool(self.verdicts or self.states)

    def conditions(self) -> list:
        """WHERE clauses on VirtualImage and PhotoSession: the caller joins those the clauses name."""
        clauses = []
        if self.verdicts:
            clauses.append(VirtualImage.moderation_status.in_(self.verdicts))
        if self.states:
            clauses.append(PhotoSession.status.in_(self.states))
        return clauses

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
        return {name: [value.value for value, chosen in options if chosen] for name, options in choices}


NO_FILTER = PhotoFilter()


@dataclass(frozen=True)
class FilterCounts:
    """Photos per filter value, each counted under the other filter (what choosing that value would
    show), those the whole filter keeps, and all of them."""

    verdicts: dict[ModerationStatus, int]
    states: dict[SessionStatus, int]
    matching: int
    everything: int


def count(
    tally: Iterable[tuple[SessionStatus, ModerationStatus | None, int]], filters: PhotoFilter
) -> FilterCounts:
    """The counts of a listing from its photos grouped by (state, verdict); a photo whose image is not
    made yet has no verdict."""
    verdicts = dict.fromkeys(ModerationStatus, 0)
    states = dict.fromkeys(SessionStatus, 0)
    matching = everything = 0
    for state, verdict, photos in tally:
        everything += photos
        if verdict is not None and (not filters.states or state in filters.states):
            verdicts[verdict] += photos
        if not filters.verdicts or verdict in filters.verdicts:
            states[state] += photos
        if filters.keeps(state, verdict):
            matching += photos
    return FilterCounts(verdicts, states, matching, everything)
