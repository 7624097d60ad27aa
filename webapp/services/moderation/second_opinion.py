"""The cascade in a photo's job: a first answer in the uncertainty band goes to the second provider.

The second provider's answer decides and is the stored answer; the first's is kept beside it under
"Cascade" (`{"first": {"source", "labels", "verdict", "model_version"}, "escalated_to", "band"}`), so
moderators see both. Rekognition answers at once, in the same job; the external service is handed the
image, which waits `pending` with the first answer stored, and its callback decides.
"""

import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, func, or_, select

from webapp.extensions import db
from webapp.models import ModerationStatus, VirtualImage
from webapp.providers import ModerationFailed, ModerationResult, registry
from webapp.providers.cascade import CASCADE, Escalation, with_cascade
from webapp.services import verdicts
from webapp.services.moderation import external_moderation


def escalate(virtual_image: VirtualImage, photo: "registry.Photo", first: ModerationResult) -> bool:
    """Whether the first answer was in the band; if so the second provider decides, or is handed the image.

    ModerationUnavailable from the second provider propagates, so the job is retried."""
    cascade = registry.escalation()
    if (
        cascade is None
        or not cascade.applies_after(virtual_image.provider)
        or not cascade.uncertain(first.labels)
    ):
        return False
    entry = _entry(cascade, first)
    second = registry.get(cascade.target)
    if second.kind is registry.Kind.LATER:
        _hand_over(virtual_image, first, entry)
        return True
    try:
        result = second.moderate(photo)
    except ModerationFailed as exc:
        verdicts.record_error(virtual_image.id, f"Not moderated by the second provider: {exc}", second.name)
        return True
    verdicts.record_result(virtual_image.id, with_cascade(result, entry))
    return True


def hand_over_uncertain(provider: str, results: dict[uuid.UUID, ModerationResult]) -> set[uuid.UUID]:
    """Of a batch's results by a job-level provider, hand only the uncertain ones to the external service
    (the rest stand); the ids handed over. A per-image provider is not asked from a batch's results."""
    cascade = registry.escalation()
    if cascade is None or not cascade.applies_after(provider):
        return set()
    if registry.get(cascade.target).kind is not registry.Kind.LATER:
        return set()
    uncertain = {image_id for image_id, result in results.items() if cascade.uncertain(result.labels)}
    images = db.session.scalars(select(VirtualImage).where(VirtualImage.id.in_(uncertain))).all()
    for image in images:
        if image.moderation_status == ModerationStatus.PENDING and image.external_requested_at is None:
            _hand_over(image, results[image.id], _entry(cascade, results[image.id]))
    return uncertain


def _entry(cascade: Escalation, first: ModerationResult) -> dict:
    """What is kept of the first answer beside the deciding one."""
    return {
        "first": {
            "source": first.source,
            "model_version": first.model_version,
            "labels": first.labels,
            "verdict": registry.policy().verdict(first.labels).value,
        },
        "escalated_to": cascade.target,
        "band": cascade.band_description(),
    }


def _hand_over(image: VirtualImage, first: ModerationResult, entry: dict) -> None:
    """The image waits for the external service with the first answer stored (moderators see it)."""
    image.rekognition_data = {**first.answer, CASCADE: entry}
    external_moderation.hand_over(image)


@dataclass(frozen=True)
class Share:
    """How many images a provider answered, and how many of those went on to a second provider."""

    moderated: int
    escalated: dict[str, int]

    def sentence(self) -> str | None:
        """ "Second opinion: 12 of 400 photos (3 %) went to rekognition", or None before any escalated."""
        if not self.escalated:
            return None
        total = self.moderated
        parts = [
            f"{count} of {total} photos ({100 * count / max(total, 1):.0f} %) went to {target}"
            for target, count in sorted(self.escalated.items())
        ]
        return "Second opinion: " + "; ".join(parts) + "."


def share(connection: Connection | None = None) -> Share:
    """The images a provider answered (not a bank match or a duplicate), and those escalated by target;
    read on `connection` when given (the metrics' own), else in the session."""
    target = VirtualImage.rekognition_data[(CASCADE, "escalated_to")].as_string()
    answered = or_(VirtualImage.model_version.is_not(None), target.is_not(None))
    query = (
        select(target, func.count())
        .where(answered, VirtualImage.matched_entry_id.is_(None), VirtualImage.duplicate_of_id.is_(None))
        .group_by(target)
    )
    counts = dict((connection or db.session).execute(query).all())
    return Share(sum(counts.values()), {name: n for name, n in counts.items() if name is not None})
