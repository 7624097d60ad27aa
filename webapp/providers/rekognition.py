"""Moderation by Amazon Rekognition's DetectModerationLabels, one call per image stored in S3 (per
animation, on a contact sheet of its frames sent as bytes)."""

import functools
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError
from PIL import Image

from webapp.imaging.contact_sheet import contact_sheet, grid
from webapp.providers import ModerationFailed, ModerationResult, ModerationUnavailable, label

# Rekognition's limits for DetectModerationLabels on an S3 object (AWS "Guidelines and quotas").
# AWS writes "15 MB" without saying which megabyte; the decimal one is the safe reading.
SUPPORTED_TYPES = frozenset({"image/jpeg", "image/png"})
MIN_SIDE = 80
MAX_SIDE = 10_000
MAX_BYTES = 15 * 1000 * 1000
# Sent as bytes rather than an S3 object, an image may have 5 MB.
MAX_SENT_BYTES = 5 * 1000 * 1000

# An animation is sent as one contact sheet of its sampled frames rather than as its worst frame:
# one paid call per photo, as for a still one, and Rekognition itself sees every frame, where the
# worst frame would be chosen by the smaller local model (its misses never reaching Rekognition) at
# the cost of a local run on every frame first. The price is detail: a tile of a 4x4 sheet is
# 512 px, and a borderline frame scores lower in a tile than alone, for MinConfidence and the
# policy's thresholds alike. 16 frames (ANIMATION_SAMPLE_FRAMES' default) fill a sheet of about
# 2048 px; more make the tiles smaller. Such a JPEG at this quality stays under MAX_SENT_BYTES even
# when every pixel is noise (3.2 MB).
SHEET_TILE = 512
SHEET_SIDE = 2048
SHEET_QUALITY = 85

# Error codes that say "not now" rather than "never": the same request may succeed later.
# LimitExceededException is StartMediaAnalysisJob's "too many concurrent jobs".
TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "InternalServerError",
        "LimitExceededException",
    }
)

# botocore waits 60 s to connect or read by default. A few quick attempts in standard mode absorb
# throttling and 5xx blips with botocore's own backoff; a longer outage is left to the job's retry
# with backoff rather than holding a worker for minutes.
CLIENT_CONFIG = Config(
    connect_timeout=5,
    read_timeout=30,
    retries={"mode": "standard", "total_max_attempts": 3},
)


@functools.cache
def rekognition_client(region: str, endpoint_url: str | None = None) -> BaseClient:
    """The process's Rekognition client for this region and endpoint, created on first use."""
    # A session of our own: boto3's default session is not safe to create clients from in threads.
    session = boto3.session.Session()
    return session.client("rekognition", region_name=region, endpoint_url=endpoint_url, config=CLIENT_CONFIG)


@dataclass(frozen=True)
class StoredObject:
    """An image stored in S3, with what Rekognition's limits are checked against."""

    bucket: str
    key: str
    content_type: str
    width: int
    height: int
    bytes: int


def unsuitable_reason(image: StoredObject) -> str | None:
    """Why Rekognition cannot moderate this stored image, or None when it can."""
    if image.content_type.lower() not in SUPPORTED_TYPES:
        return f"its format ({image.content_type}) is not JPEG or PNG"
    if min(image.width, image.height) < MIN_SIDE:
        return f"it is {image.width}x{image.height} px, below {MIN_SIDE} px on a side"
    if max(image.width, image.height) > MAX_SIDE:
        return f"it is {image.width}x{image.height} px, above {MAX_SIDE} px on a side"
    if image.bytes > MAX_BYTES:
        return f"it is {image.bytes} bytes, above {MAX_BYTES}"
    return None


def rekognition_source(original: StoredObject, jpeg_derivative: StoredObject | None) -> StoredObject:
    """The object to send to Rekognition: the original when it qualifies, else its JPEG derivative."""
    original_reason = unsuitable_reason(original)
    if original_reason is None:
        return original
    if jpeg_derivative is None:
        raise ModerationFailed(
            f"Rekognition cannot moderate this photo: {original_reason}, and it has no JPEG derivative."
        )
    derivative_reason = unsuitable_reason(jpeg_derivative)
    if derivative_reason is None:
        return jpeg_derivative
    raise ModerationFailed(
        f"Rekognition cannot moderate this photo: the original fails because {original_reason}, "
        f"and its JPEG derivative because {derivative_reason}."
    )


@contextmanager
def rekognition_errors(failure: str) -> Iterator[None]:
    """Turn botocore errors raised in the block into ModerationUnavailable or ModerationFailed.

    `failure` opens the message of a permanent error, e.g. "Rekognition cannot read this image".
    """
    try:
        yield
    except ParamValidationError as exc:
        raise ModerationFailed(f"{failure}: the request was invalid ({exc}).") from exc
    except BotoCoreError as exc:
        raise ModerationUnavailable(f"Rekognition could not be reached: {exc}") from exc
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code", "Unknown")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500)
        detail = f"{code}: {error.get('Message') or 'no message'}"
        if code in TRANSIENT_CODES or status >= 500 or status == 429:
            raise ModerationUnavailable(f"Rekognition is unavailable ({detail}).") from exc
        raise ModerationFailed(f"{failure} ({detail}).") from exc


def result_from_answer(answer: dict) -> ModerationResult:
    """A ModerationResult from one DetectModerationLabels answer; ModerationFailed when it is malformed."""
    labels = answer.get("ModerationLabels")
    version = answer.get("ModerationModelVersion")
    if not isinstance(labels, list) or not isinstance(version, str):
        raise ModerationFailed("Rekognition answered without ModerationLabels or ModerationModelVersion.")
    try:
        normalised = [_normalised_label(item) for item in labels]
    except (KeyError, TypeError, ValueError) as exc:
        raise ModerationFailed(f"Rekognition answered with a malformed label: {exc!r}.") from exc
    return ModerationResult(labels=normalised, model_version=version, source="rekognition", answer=answer)


def _normalised_label(item: dict) -> dict:
    """One answered label in exactly the shared shape."""
    parent = item.get("ParentName", "")
    # Models before 7.0 sent no TaxonomyLevel; their taxonomy had two levels.
    level = item.get("TaxonomyLevel", 1 if parent == "" else 2)
    return label(item["Name"], parent, item["Confidence"], int(level))


class RekognitionModerator:
    """Moderates images already stored in S3 with DetectModerationLabels."""

    def __init__(self, client: BaseClient, min_confidence: float = 50.0):
        self.client = client
        self.min_confidence = min_confidence

    def moderate(self, source: StoredObject) -> ModerationResult:
        """Rekognition's labels for `source`; raises rather than ever approving on an error."""
        with rekognition_errors("Rekognition cannot read this image"):
            response = self.client.detect_moderation_labels(
                Image={"S3Object": {"Bucket": source.bucket, "Name": source.key}},
                MinConfidence=self.min_confidence,
            )
        return result_from_answer(_without_metadata(response))

    def moderate_frames(self, frames: Sequence[tuple[int, Image.Image]]) -> ModerationResult:
        """Rekognition's labels for a contact sheet of an animation's frames (each given as its index and
        pixels), sent as bytes; its answer's `Frames` names the frames and the sheet's layout."""
        columns, rows = grid(len(frames))
        tile = min(SHEET_TILE, SHEET_SIDE // columns)
        buffer = io.BytesIO()
        contact_sheet([pixels for _, pixels in frames], tile).save(buffer, "JPEG", quality=SHEET_QUALITY)
        if buffer.tell() > MAX_SENT_BYTES:
            raise ModerationFailed(
                f"Its contact sheet has {buffer.tell()} bytes, above Rekognition's {MAX_SENT_BYTES}."
            )
        with rekognition_errors("Rekognition cannot read this animation's contact sheet"):
            response = self.client.detect_moderation_labels(
                Image={"Bytes": buffer.getvalue()}, MinConfidence=self.min_confidence
            )
        result = result_from_answer(_without_metadata(response))
        sheet = {"columns": columns, "rows": rows, "tile": tile}
        result.answer["Frames"] = {"sampled": [index for index, _ in frames], "contact_sheet": sheet}
        return result


def _without_metadata(response: dict) -> dict:
    return {name: value for name, value in response.items() if name != "ResponseMetadata"}
