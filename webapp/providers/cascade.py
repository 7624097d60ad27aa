"""A second opinion only where the first is unsure (issue 22).

`MODERATION_ESCALATE` names a second provider (rekognition or external; empty: none) and
`MODERATION_ESCALATE_BAND` the uncertainty band, per category: `Explicit=20-80;Suggestive=30-70`
(confidence percentages, bounds included; pairs separated by ';' or ','). A photo whose first answer
has any category of the band within it goes to the second provider, whose answer decides; outside
the band the first answer stands. A category absent from an answer has confidence 0.
"""

import re
from dataclasses import dataclass

from webapp.providers import ModerationResult
from webapp.providers.policy import category_confidences

TARGETS = ("rekognition", "external")
# The key of a stored answer that keeps the first answer of an escalated photo.
CASCADE = "Cascade"
_SAME_MODEL = {"rekognition_bulk": "rekognition"}
_RANGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*$")


class InvalidEscalation(ValueError):
    """MODERATION_ESCALATE or MODERATION_ESCALATE_BAND cannot be used; the message says why."""


@dataclass(frozen=True)
class Escalation:
    """Where uncertain photos go, and the band that makes a photo uncertain."""

    target: str
    band: dict[str, tuple[float, float]]

    def uncertain(self, labels: list[dict]) -> bool:
        """Whether any category of the band has its confidence within the band."""
        confidences = category_confidences(labels)
        return any(
            low <= confidences.get(category, 0.0) <= high for category, (low, high) in self.band.items()
        )

    def applies_after(self, provider: str) -> bool:
        """Whether a first answer by `provider` may be escalated: never to the same model (Rekognition's bulk
        analysis is Rekognition)."""
        return _SAME_MODEL.get(provider, provider) != self.target

    def band_description(self) -> dict[str, list[float]]:
        """The band as stored beside an escalated answer: {category: [low, high]}."""
        return {category: [low, high] for category, (low, high) in self.band.items()}


def parse_escalation(target: str | None, band: str | None) -> Escalation | None:
    """The configured cascade, or None when MODERATION_ESCALATE is empty. InvalidEscalation: unusable."""
    target = (target or "").strip()
    if not target:
        return None
    if target not in TARGETS:
        raise InvalidEscalation(
            f"MODERATION_ESCALATE={target!r}: the second provider must be one of {', '.join(TARGETS)}."
        )
    ranges = parse_band(band)
    if not ranges:
        raise InvalidEscalation(
            "MODERATION_ESCALATE is set but MODERATION_ESCALATE_BAND is empty; give the uncertainty band "
            "per category, e.g. 'Explicit=20-80;Suggestive=30-70'."
        )
    return Escalation(target, ranges)


def parse_band(text: str | None) -> dict[str, tuple[float, float]]:
    """`"Explicit=20-80;Suggestive=30-70"` → {"Explicit": (20.0, 80.0), "Suggestive": (30.0, 70.0)}."""
    ranges: dict[str, tuple[float, float]] = {}
    for item in re.split(r"[;,]", text or ""):
        if not item.strip():
            continue
        name, separator, bounds = item.rpartition("=")
        match = _RANGE.match(bounds)
        if not separator or not name.strip() or not match:
            raise InvalidEscalation(
                f"MODERATION_ESCALATE_BAND: {item.strip()!r} is not 'Category=low-high' ('Explicit=20-80')."
            )
        low, high = float(match[1]), float(match[2])
        if not low <= high <= 100:
            raise InvalidEscalation(
                f"MODERATION_ESCALATE_BAND: {item.strip()!r} needs 0 <= low <= high <= 100 (percentages)."
            )
        ranges[name.strip()] = (low, high)
    return ranges


def with_cascade(result: ModerationResult, entry: dict) -> ModerationResult:
    """The deciding result, its stored answer carrying the first answer's entry."""
    return ModerationResult(
        result.labels, result.model_version, result.source, {**result.answer, CASCADE: entry}
    )


def cascade_of(answer: dict | None) -> dict | None:
    """The first answer's entry of an escalated image's stored answer, or None."""
    return (answer or {}).get(CASCADE)
