"""From labels to a verdict: per-category confidence thresholds from configuration.

A category is a level-1 label of Rekognition's taxonomy; its confidence is the highest of the
label itself and every label below it. Reject thresholds are checked before flag thresholds.
"""

from dataclasses import dataclass

from webapp.models import ModerationStatus

DEFAULT_REJECT = {"Explicit": 80.0}
DEFAULT_FLAG = {"Explicit": 50.0, "Non-Explicit Nudity of Intimate parts and Kissing": 50.0}


@dataclass(frozen=True)
class Policy:
    reject: dict[str, float]
    flag: dict[str, float]

    def verdict(self, labels: list[dict]) -> ModerationStatus:
        """Rejected, flagged for a person to review, or approved."""
        confidences = category_confidences(labels)
        if _any_over(confidences, self.reject):
            return ModerationStatus.REJECTED
        if _any_over(confidences, self.flag):
            return ModerationStatus.FLAGGED
        return ModerationStatus.APPROVED

    def counted(self, labels: list[dict]) -> list[dict]:
        """The labels at or above a threshold of their category, reject or flag: those that can decide
        a verdict. A label under every threshold of its category, or of a category with none, is left out."""
        parents = _parents(labels)
        kept = []
        for item in labels:
            category = _root(item["Name"], parents)
            thresholds = [t for t in (self.reject.get(category), self.flag.get(category)) if t is not None]
            if thresholds and float(item["Confidence"]) >= min(thresholds):
                kept.append(item)
        return kept


def category_confidences(labels: list[dict]) -> dict[str, float]:
    """The highest confidence seen in each level-1 category, following ParentName up the tree."""
    parents = _parents(labels)
    confidences: dict[str, float] = {}
    for item in labels:
        category = _root(item["Name"], parents)
        confidences[category] = max(confidences.get(category, 0.0), float(item["Confidence"]))
    return confidences


def _parents(labels: list[dict]) -> dict[str, str]:
    return {item["Name"]: item.get("ParentName") or "" for item in labels}


def _root(name: str, parents: dict[str, str]) -> str:
    seen = {name}
    while parents.get(name) and parents[name] not in seen:
        name = parents[name]
        seen.add(name)
    return name


def _any_over(confidences: dict[str, float], thresholds: dict[str, float]) -> bool:
    return any(confidences.get(category, 0.0) >= threshold for category, threshold in thresholds.items())


def parse_thresholds(text: str | None, default: dict[str, float]) -> dict[str, float]:
    """`"Explicit=80;Violence=90"` → {"Explicit": 80.0, "Violence": 90.0}.

    Pairs are separated by ';' because category names hold spaces and '&' ("Drugs & Tobacco").
    """
    if not text:
        return dict(default)
    pairs = (item.rsplit("=", 1) for item in text.split(";") if item.strip())
    return {name.strip(): float(value) for name, value in pairs}
