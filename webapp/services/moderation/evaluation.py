"""How well a provider and thresholds do on labelled images: confusion counts and a threshold sweep.

Pure functions over scored samples; `evaluation_run.py` makes the samples. A sample is positive
when it is labelled nsfw (or with a category), and predicted positive when the policy flags or
rejects it; the sweep instead predicts positive when its score, the highest confidence over the
policy's categories, is at or above each threshold.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from webapp.providers.policy import Policy, category_confidences

SWEEP_THRESHOLDS = tuple(range(0, 101, 5))


@dataclass(frozen=True)
class Sample:
    """One labelled image as the provider and policy saw it."""

    filename: str
    positive: bool
    category: str | None
    flagged: bool
    score: float


@dataclass(frozen=True)
class Confusion:
    tp: int
    fp: int
    tn: int
    fn: int

    @property
    def precision(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def false_positive_rate(self) -> float | None:
        return _ratio(self.fp, self.fp + self.tn)

    def as_dict(self) -> dict:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "tn": self.tn,
            "fn": self.fn,
            "precision": self.precision,
            "recall": self.recall,
            "false_positive_rate": self.false_positive_rate,
        }


def score(labels: list[dict], policy: Policy) -> float:
    """The highest confidence over the categories the policy has a threshold for (0 when none is seen)."""
    confidences = category_confidences(labels)
    categories = set(policy.reject) | set(policy.flag)
    return max((confidences.get(category, 0.0) for category in categories), default=0.0)


def confusion(outcomes: Iterable[tuple[bool, bool]]) -> Confusion:
    """Counts over (actually positive, predicted positive) pairs."""
    counts = {(True, True): 0, (False, True): 0, (False, False): 0, (True, False): 0}
    for actual, predicted in outcomes:
        counts[(bool(actual), bool(predicted))] += 1
    return Confusion(
        tp=counts[(True, True)], fp=counts[(False, True)], tn=counts[(False, False)], fn=counts[(True, False)]
    )


def at_policy(samples: Sequence[Sample]) -> Confusion:
    """The confusion of the policy's own verdicts."""
    return confusion((sample.positive, sample.flagged) for sample in samples)


def sweep(samples: Sequence[Sample], thresholds: Iterable[float] = SWEEP_THRESHOLDS) -> list[dict]:
    """For each threshold, the confusion when a score at or above it counts as positive."""
    return [
        {"threshold": threshold, **confusion((s.positive, s.score >= threshold) for s in samples).as_dict()}
        for threshold in thresholds
    ]


def threshold_for_fpr(rows: Sequence[dict], target: float) -> float | None:
    """The lowest threshold of a sweep whose false positive rate is at most `target`: the one with the
    highest recall that meets it. None when none does, or when there were no negatives to count."""
    meeting = [
        row["threshold"]
        for row in rows
        if row["false_positive_rate"] is not None and row["false_positive_rate"] <= target
    ]
    return min(meeting, default=None)


def per_category(samples: Sequence[Sample]) -> dict[str, dict]:
    """For each category images were labelled with: how many, and how many the policy caught."""
    report: dict[str, dict] = {}
    for category in sorted({s.category for s in samples if s.category}):
        labelled = [s for s in samples if s.category == category]
        caught = sum(s.flagged for s in labelled)
        report[category] = {"n": len(labelled), "caught": caught, "recall": _ratio(caught, len(labelled))}
    return report


def summary(
    provider: str, samples: Sequence[Sample], unreadable: list[dict], unlabelled: int, target_fpr: float
) -> dict:
    """The whole report, as `flask moderation evaluate --json` prints it."""
    rows = sweep(samples)
    positives = sum(sample.positive for sample in samples)
    return {
        "provider": provider,
        "n": len(samples),
        "positives": positives,
        "negatives": len(samples) - positives,
        "at_current_thresholds": at_policy(samples).as_dict(),
        "per_category": per_category(samples),
        "sweep": rows,
        "target_fpr": target_fpr,
        "threshold_for_target_fpr": threshold_for_fpr(rows, target_fpr),
        "unreadable": unreadable,
        "unlabelled": unlabelled,
        # Per image, so the images behind a false positive or negative can be looked at.
        "images": [
            {"filename": s.filename, "nsfw": s.positive, "flagged": s.flagged, "score": s.score}
            for s in samples
        ],
    }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
