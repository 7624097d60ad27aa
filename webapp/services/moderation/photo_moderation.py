"""Moderating a photo in its pipeline job: what was judged before decides it, else its provider."""

from collections.abc import Sequence

from PIL import Image

from webapp.imaging.animation import SampledFrame
from webapp.models import ImageKind, ModerationStatus, PhotoSession, S3Image
from webapp.providers import ModerationFailed, registry
from webapp.providers.rekognition import StoredObject
from webapp.services import verdicts
from webapp.services.banks import hash_matching
from webapp.services.moderation import external_moderation, second_opinion


def frame_side(session: PhotoSession) -> int:
    """How big a copy of each sampled frame of an animation the photo's provider looks at (0: none, as
    when the photo needs no provider any more); the larger of it and the cascade's second provider's."""
    virtual_image = session.virtual_image
    if virtual_image is None or virtual_image.moderation_status != ModerationStatus.PENDING:
        return 0
    side = registry.get(virtual_image.provider).frame_side
    cascade = registry.escalation()
    if cascade is not None and cascade.applies_after(virtual_image.provider):
        side = max(side, registry.get(cascade.target).frame_side)
    return side


def moderate_photo(session: PhotoSession, pixels: Image.Image, frames: Sequence[SampledFrame] = ()) -> None:
    """Decide the photo from its bytes or hashes (its own, and an animation's later sampled `frames`) if
    they were judged before; else ask its provider, which sees the frames too, and record its verdict —
    or, when its answer is in the cascade's band, the second provider's; providers that answer later
    are handed it.

    ModerationUnavailable propagates so the job is retried; ModerationFailed ends the image `error`.
    """
    virtual_image = session.virtual_image
    if virtual_image is None or virtual_image.moderation_status != ModerationStatus.PENDING:
        return
    prior = hash_matching.decided_before(virtual_image, frames)
    if prior is not None:
        verdicts.record({virtual_image.id: prior})
        return
    provider = registry.get(virtual_image.provider)
    if provider.kind is registry.Kind.LATER and virtual_image.external_requested_at is None:
        external_moderation.hand_over(virtual_image)
    if provider.kind is not registry.Kind.NOW or virtual_image.external_requested_at is not None:
        # A retried job of a photo escalated to the vendor asks nobody again: the vendor's callback decides.
        return
    photo = registry.Photo(
        pixels,
        stored_object(session.image(ImageKind.ORIGINAL)),
        stored_object(session.image(ImageKind.THUMBNAIL_ORIGINAL)),
        frames,
    )
    try:
        result = provider.moderate(photo)
    except ModerationFailed as exc:
        verdicts.record_error(virtual_image.id, f"Not moderated: {exc}", provider.name)
        return
    if not second_opinion.escalate(virtual_image, photo, result):
        verdicts.record_result(virtual_image.id, result)


def stored_object(image: S3Image | None) -> StoredObject | None:
    """The provider-facing description of a stored image."""
    if image is None:
        return None
    return StoredObject(image.bucket, image.key, image.content_type, image.width, image.height, image.bytes)
