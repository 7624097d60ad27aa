"""Running a provider over a folder of labelled images, as the upload and the worker would see them.

Each image is checked as an upload is (its size, format and declared limits), decoded by the
worker's `make_derivatives` and `later_frames`, and the provider is shown what the worker shows it:
the pixels, and an animation's sampled frames. Nothing is written to the database or to storage:
Rekognition is sent a still image's bytes instead of the stored object.
"""

import io
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from webapp.errors import AppError
from webapp.imaging import Derivatives, ImageInfo, InvalidImage, inspect_upload, make_derivatives
from webapp.imaging.animation import later_frames
from webapp.models import ModerationStatus
from webapp.providers import ModerationFailed, ModerationResult, ModerationUnavailable, registry
from webapp.providers.rekognition import (
    StoredObject,
    rekognition_errors,
    rekognition_source,
    result_from_answer,
)
from webapp.services.moderation.evaluation import Sample, score
from webapp.services.moderation.evaluation_labels import check_folder, read_labels
from webapp.services.photos.processing import render_settings
from webapp.services.photos.uploads import upload_limits

# DetectModerationLabels takes at most 5 MB of image bytes sent with the request (15 MB from S3);
# AWS does not say which megabyte, so the decimal one.
REKOGNITION_INLINE_BYTES = 5 * 1000 * 1000


class CannotEvaluate(AppError):
    code = "cannot_evaluate"
    status = 422


@dataclass(frozen=True)
class Evaluated:
    """What a run found: a sample per image the provider judged, and why the others could not be."""

    provider: str
    samples: list[Sample]
    unreadable: list[dict]
    unlabelled: int


def evaluable(name: str | None) -> str:
    """The provider to evaluate, the configured one by default; CannotEvaluate if it cannot answer now."""
    name = (name or current_app.config["MODERATION_PROVIDER"]).strip()
    if name not in registry.REGISTRY:
        raise CannotEvaluate(
            f"Unknown moderation provider {name!r}; choose one of {', '.join(registry.PROVIDERS)}."
        )
    kind = registry.get(name).kind
    if kind is registry.Kind.LATER:
        raise CannotEvaluate(
            f"The {name} provider answers later, by webhook, so it cannot be evaluated here: "
            "choose one that answers now (local or rekognition)."
        )
    if kind is registry.Kind.PER_JOB:
        raise CannotEvaluate(
            f"The {name} provider moderates whole jobs; "
            "evaluate its model per image with --provider rekognition."
        )
    return name


def evaluate(folder: Path, labels_text: str, provider: str | None) -> Evaluated:
    """Moderate every labelled image of `folder` and judge it by the policy in force.

    BadLabels for a label file that does not fit the folder; CannotEvaluate when the provider cannot
    answer. An image that cannot be read or moderated is listed, not fatal.
    """
    name = evaluable(provider)
    policy = registry.policy()
    labels = read_labels(labels_text, [*policy.reject, *policy.flag])
    unlabelled = check_folder(folder, labels)
    samples, unreadable = [], []
    for label in labels:
        try:
            result = _moderate(name, (folder / label.filename).read_bytes())
        except (InvalidImage, ModerationFailed) as exc:
            unreadable.append({"filename": label.filename, "reason": str(exc)})
            continue
        except ModerationUnavailable as exc:
            raise CannotEvaluate(f"{label.filename}: {exc} Nothing was evaluated.") from exc
        flagged = policy.verdict(result.labels) is not ModerationStatus.APPROVED
        samples.append(
            Sample(label.filename, label.positive, label.category, flagged, score(result.labels, policy))
        )
    return Evaluated(name, samples, unreadable, unlabelled)


def _moderate(name: str, data: bytes) -> ModerationResult:
    limit = current_app.config["MAX_FILE_BYTES"]
    if len(data) > limit:
        raise ModerationFailed(f"The file is {len(data):,} bytes; uploads are limited to {limit:,}.")
    info = inspect_upload(io.BytesIO(data), upload_limits())
    provider, settings = registry.get(name), render_settings()
    derivatives = make_derivatives(data, settings)
    frames = later_frames(data, settings, provider.frame_side)
    if name == registry.Rekognition.name and not frames:
        return _ask_rekognition(data, info, derivatives)
    return provider.moderate(registry.Photo(derivatives.pixels, None, None, frames))


def _ask_rekognition(data: bytes, info: ImageInfo, derivatives: Derivatives) -> ModerationResult:
    """Rekognition's labels for the still image the worker would send: the original, else its JPEG
    thumbnail (an animation's contact sheet is sent as bytes by the provider itself)."""
    thumbnail = derivatives.thumbnail_original
    original = StoredObject("", "original", info.content_type, info.width, info.height, info.size)
    fallback = StoredObject(
        "", "thumbnail", thumbnail.content_type, thumbnail.width, thumbnail.height, len(thumbnail.data)
    )
    chosen = rekognition_source(original, fallback)
    body = data if chosen is original and info.size <= REKOGNITION_INLINE_BYTES else thumbnail.data
    with rekognition_errors("Rekognition cannot read this image"):
        response = registry.rekognition_client().detect_moderation_labels(
            Image={"Bytes": body}, MinConfidence=current_app.config["MODERATION_MIN_CONFIDENCE"]
        )
    return result_from_answer({key: value for key, value in response.items() if key != "ResponseMetadata"})
