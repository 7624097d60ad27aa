"""Moderation providers behind one interface; every answer is kept in Rekognition's label shape.

A label is `{"Name", "ParentName", "Confidence", "TaxonomyLevel"}` (ParentName "" at level 1),
as Rekognition's DetectModerationLabels returns it (taxonomy v7), so policy and pages read one
shape whichever provider answered.
"""

from dataclasses import dataclass, field


class ModerationFailed(Exception):
    """The provider can never moderate this image (for example, Rekognition rejects its format)."""


class ModerationUnavailable(Exception):
    """The provider did not answer (throttled, 5xx, unreachable); trying again later may work."""


@dataclass(frozen=True)
class ModerationResult:
    """One image's moderation, in Rekognition's shape.

    `answer` is the provider's whole answer, stored as `virtual_images.rekognition_data`; it always
    holds "ModerationLabels" and "ModerationModelVersion" (Rekognition's own keys) and may hold more.
    """

    labels: list[dict]
    model_version: str
    source: str
    answer: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.answer.setdefault("ModerationLabels", self.labels)
        self.answer.setdefault("ModerationModelVersion", self.model_version)


def label(name: str, parent: str, confidence: float, level: int) -> dict:
    """A moderation label in Rekognition's shape."""
    return {
        "Name": name,
        "ParentName": parent,
        "Confidence": round(float(confidence), 3),
        "TaxonomyLevel": level,
    }
