"""An animation moderated frame by frame: the frame whose verdict is most severe decides."""

from collections.abc import Sequence
from typing import Protocol

from PIL import Image

from webapp.models import ModerationStatus
from webapp.providers import ModerationResult
from webapp.providers.policy import Policy

SEVERITY = {
    ModerationStatus.APPROVED.value: 0,
    ModerationStatus.FLAGGED.value: 1,
    ModerationStatus.REJECTED.value: 2,
}


class Model(Protocol):
    def moderate(self, pixels: Image.Image) -> ModerationResult:
        """One picture's labels."""


def worst_frame(model: Model, frames: Sequence[tuple[int, Image.Image]], policy: Policy) -> ModerationResult:
    """The model's answer on the worst of the frames (each given as its index and pixels): the most
    severe verdict under `policy`, then the strongest label, then the earliest frame.

    Its answer's `Frames` names the frames looked at, the one that decided, and each one's verdict and
    strongest label.
    """
    results = [(index, model.moderate(pixels)) for index, pixels in frames]
    summaries = [_summary(index, result, policy.verdict(result.labels)) for index, result in results]
    # max() keeps the first of equals: the earliest frame wins a tie.
    worst = max(
        range(len(results)), key=lambda n: (SEVERITY[summaries[n]["verdict"]], summaries[n]["confidence"])
    )
    index, result = results[worst]
    seen = {"sampled": [index for index, _ in results], "decided_by": index, "per_frame": summaries}
    return ModerationResult(
        result.labels, result.model_version, result.source, {**result.answer, "Frames": seen}
    )


def _summary(index: int, result: ModerationResult, verdict: ModerationStatus) -> dict:
    """One frame's verdict and strongest label."""
    strongest = max(result.labels, key=lambda item: item["Confidence"], default=None)
    return {
        "frame": index,
        "verdict": verdict.value,
        "label": strongest["Name"] if strongest else None,
        "confidence": strongest["Confidence"] if strongest else 0.0,
    }
