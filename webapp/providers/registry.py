"""The one interface every moderation provider implements, and the providers registered by name.

A provider is one of three kinds, and the pipeline, the reconciler and the pages ask its kind,
never its name:
- `Kind.NOW` answers for one photo inside its pipeline job (`moderate`);
- `Kind.LATER` is handed the photo and answers later through the signed webhook;
- `Kind.PER_JOB` moderates a whole job at once, after every photo of it is processed.
A new provider is a class with these attributes and methods, added to `REGISTRY`.
"""

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from flask import current_app
from PIL import Image

from webapp.errors import AppError
from webapp.imaging.animation import SampledFrame
from webapp.providers import ModerationResult, rekognition
from webapp.providers.cascade import Escalation, InvalidEscalation, parse_escalation
from webapp.providers.policy import DEFAULT_FLAG, DEFAULT_REJECT, Policy, parse_thresholds
from webapp.providers.rekognition import StoredObject, rekognition_source
from webapp.providers.worst_frame import worst_frame


class Kind(enum.Enum):
    NOW = "answers per image, now"
    LATER = "answers per image, later, by webhook"
    PER_JOB = "answers per job"


class UnknownProvider(AppError):
    code = "unknown_provider"
    status = 422


class ProviderUnavailable(AppError):
    code = "provider_unavailable"
    status = 422


@dataclass(frozen=True)
class Photo:
    """What a provider may read of one photo: its decoded pixels (an animation's first frame), its stored
    objects and an animation's later sampled frames, fitted within the provider's `frame_side`."""

    pixels: Image.Image
    original: StoredObject | None
    thumbnail: StoredObject | None
    later_frames: Sequence[SampledFrame] = ()

    def frames(self) -> list[tuple[int, Image.Image]]:
        """Every sampled frame as its index and pixels, the first frame first."""
        return [(0, self.pixels), *((frame.index, frame.pixels) for frame in self.later_frames)]


class Provider(Protocol):
    name: str
    kind: Kind
    # How big a copy of each sampled frame of an animation it looks at (0: it looks at none).
    frame_side: int

    def unavailable_because(self, config) -> str | None:
        """Why this server cannot use the provider (None when it can)."""

    def preload(self) -> None:
        """Create what it needs before a worker forks its jobs, so each job inherits it."""


class ModeratesNow(Provider, Protocol):
    """A provider of Kind.NOW."""

    def moderate(self, photo: Photo) -> ModerationResult:
        """The photo's labels. ModerationFailed: it never can; ModerationUnavailable: try again later."""


class LocalModel:
    """The bundled NSFW model (the default): works offline, reads the decoded pixels."""

    name, kind = "local", Kind.NOW
    # The model's input side (providers/local.py): a larger copy would only be shrunk again.
    frame_side = 320

    def unavailable_because(self, config) -> str | None:
        return None

    def preload(self) -> None:
        local_model()

    def moderate(self, photo: Photo) -> ModerationResult:
        """A still photo's labels; an animation's are those of its worst sampled frame."""
        if not photo.later_frames:
            return local_model().moderate(photo.pixels)
        return worst_frame(local_model(), photo.frames(), policy())


class Rekognition:
    """DetectModerationLabels on the stored original (or its JPEG thumbnail), read from S3 by AWS; on a
    contact sheet of an animation's sampled frames, sent as bytes."""

    name, kind = "rekognition", Kind.NOW
    frame_side = rekognition.SHEET_TILE

    def unavailable_because(self, config) -> str | None:
        return _needs_s3(self.name, config)

    def preload(self) -> None:
        rekognition_client()

    def moderate(self, photo: Photo) -> ModerationResult:
        moderator = rekognition.RekognitionModerator(
            rekognition_client(), current_app.config["MODERATION_MIN_CONFIDENCE"]
        )
        if photo.later_frames:
            return moderator.moderate_frames(photo.frames())
        return moderator.moderate(rekognition_source(photo.original, photo.thumbnail))


class RekognitionBulk:
    """StartMediaAnalysisJob over a manifest of the job's photos (services/moderation/bulk_moderation.py)."""

    name, kind = "rekognition_bulk", Kind.PER_JOB
    # An analysis job reads the stored objects the manifest names: an animation's first frame only.
    frame_side = 0

    def unavailable_because(self, config) -> str | None:
        return _needs_s3(self.name, config)

    def preload(self) -> None:
        rekognition_client()


class ExternalService:
    """A vendor sent each photo's URL; it answers on POST /api/webhooks/moderation
    (services/moderation/external_moderation.py)."""

    name, kind = "external", Kind.LATER
    # The vendor fetches the original itself and judges the whole file its own way.
    frame_side = 0

    def unavailable_because(self, config) -> str | None:
        secret = config["EXTERNAL_MODERATION_SECRET"] or config["MODERATION_WEBHOOK_SECRET"]
        if config["EXTERNAL_MODERATION_URL"] and secret.strip():
            return None
        return (
            "The external provider needs EXTERNAL_MODERATION_URL and a secret to sign with "
            "(EXTERNAL_MODERATION_SECRET or MODERATION_WEBHOOK_SECRET)."
        )

    def preload(self) -> None:
        """Nothing to load: requests are plain HTTP."""


REGISTRY: dict[str, Provider] = {
    provider.name: provider
    for provider in (LocalModel(), Rekognition(), RekognitionBulk(), ExternalService())
}
PROVIDERS = tuple(REGISTRY)


def get(name: str) -> Provider:
    """The provider registered under `name` (names are checked when a photo or job is created)."""
    return REGISTRY[name]


def names_of(kind: Kind) -> list[str]:
    """The names of every provider of a kind, for queries over stored rows."""
    return [name for name, provider in REGISTRY.items() if provider.kind is kind]


def choose_provider(requested: str | None) -> str:
    """The provider a new photo or job uses: the one asked for, else the configured default."""
    name = (requested or current_app.config["MODERATION_PROVIDER"]).strip()
    if name not in REGISTRY:
        raise UnknownProvider(f"Unknown moderation provider {name!r}; choose one of {', '.join(PROVIDERS)}.")
    reason = REGISTRY[name].unavailable_because(current_app.config)
    if reason:
        raise ProviderUnavailable(reason)
    return name


def policy() -> Policy:
    """The thresholds in force, from configuration."""
    config = current_app.config
    return Policy(
        reject=parse_thresholds(config["MODERATION_REJECT"], DEFAULT_REJECT),
        flag=parse_thresholds(config["MODERATION_FLAG"], DEFAULT_FLAG),
    )


def escalation(config=None) -> Escalation | None:
    """The cascade in force (MODERATION_ESCALATE and its band), or None. InvalidEscalation: unusable, as
    when the second provider cannot run on this server."""
    config = config if config is not None else current_app.config
    cascade = parse_escalation(config["MODERATION_ESCALATE"], config["MODERATION_ESCALATE_BAND"])
    reason = cascade and REGISTRY[cascade.target].unavailable_because(config)
    if reason:
        raise InvalidEscalation(f"MODERATION_ESCALATE={cascade.target}: {reason}")
    return cascade


def local_model():
    """The bundled model, loaded once per process."""
    # Imported here: the web process never moderates, and need not load ONNX Runtime and numpy.
    from webapp.providers.local import load_model

    return load_model()


def rekognition_client():
    """The process's one Rekognition client (creating a boto3 client costs ~80 ms)."""
    config = current_app.config
    return rekognition.rekognition_client(
        config["REKOGNITION_REGION"] or config["S3_REGION"], config["REKOGNITION_ENDPOINT_URL"]
    )


def _needs_s3(name: str, config) -> str | None:
    if config["S3_BUCKET"]:
        return None
    return f"The {name} provider reads photos from S3; this server stores them on disk."
