"""Bulk moderation with Rekognition's StartMediaAnalysisJob: manifests, the AWS calls, and reading results.

Results are mapped back to images through the job's `bulk_job_virtual_images` rows, never by
output position: an output line names its image by `source-ref`, which is the unique S3 key of
one row; the summary names failed input lines by number, and input line N is the row with the
N-th smallest `upload_order`. The caller writes the outcome to the rows by `virtual_image_id`.
"""

import json
import uuid
from dataclasses import dataclass, field

from botocore.client import BaseClient

from webapp.providers import ModerationFailed, ModerationResult
from webapp.providers.rekognition import rekognition_errors, result_from_answer

NO_RESULT = "Rekognition returned no result for this image."


@dataclass(frozen=True)
class ManifestEntry:
    """One image of a bulk job: a `bulk_job_virtual_images` row."""

    virtual_image_id: uuid.UUID
    s3_key: str
    upload_order: int


@dataclass(frozen=True)
class AnalysisStatus:
    """Where a media analysis job stands: state is "running", "succeeded" or "failed"."""

    state: str
    results_key: str | None = None
    summary_key: str | None = None
    failure: str | None = None


@dataclass
class BulkOutcome:
    """A finished job's answer per image, plus output that named no image or named one twice."""

    results: dict[uuid.UUID, ModerationResult] = field(default_factory=dict)
    errors: dict[uuid.UUID, str] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)


def manifest_key(job_id: uuid.UUID) -> str:
    """Where a job's input manifest is stored."""
    return f"jobs/{job_id}/manifest.jsonl"


def output_prefix(job_id: uuid.UUID) -> str:
    """Where Rekognition writes a job's output manifest and summary."""
    return f"jobs/{job_id}/output/"


def source_ref(bucket: str, key: str) -> str:
    """The `source-ref` that names an S3 object in Rekognition's manifests."""
    return f"s3://{bucket}/{key}"


def in_manifest_order(entries: list[ManifestEntry]) -> list[ManifestEntry]:
    """The entries in upload order, which is manifest line order (line 1 first)."""
    return sorted(entries, key=lambda entry: entry.upload_order)


def build_manifest(bucket: str, entries: list[ManifestEntry]) -> bytes:
    """The JSON Lines input manifest: one `{"source-ref": ...}` per entry, line N = N-th in upload order."""
    _check_unique(entries)
    lines = [
        json.dumps({"source-ref": source_ref(bucket, entry.s3_key)}) for entry in in_manifest_order(entries)
    ]
    return "".join(line + "\n" for line in lines).encode()


def start_analysis(client: BaseClient, job_id: uuid.UUID, bucket: str, min_confidence: float) -> str:
    """Start moderating the job's stored manifest and return Rekognition's JobId.

    The job id is the idempotency token, so starting the same job again returns the same JobId.
    """
    with rekognition_errors("Rekognition cannot start this bulk analysis"):
        response = client.start_media_analysis_job(
            ClientRequestToken=str(job_id),
            JobName=f"photogate-{job_id}",
            OperationsConfig={"DetectModerationLabels": {"MinConfidence": min_confidence}},
            Input={"S3Object": {"Bucket": bucket, "Name": manifest_key(job_id)}},
            OutputConfig={"S3Bucket": bucket, "S3KeyPrefix": output_prefix(job_id)},
        )
    return response["JobId"]


def get_analysis(client: BaseClient, provider_job_id: str) -> AnalysisStatus:
    """Where Rekognition's media analysis job stands, and where its output is once it succeeded."""
    with rekognition_errors("Rekognition cannot report on this bulk analysis"):
        job = client.get_media_analysis_job(JobId=provider_job_id)
    status = job["Status"]
    if status in {"CREATED", "QUEUED", "IN_PROGRESS"}:
        return AnalysisStatus(state="running")
    if status == "SUCCEEDED":
        return _succeeded(job)
    if status == "FAILED":
        details = job.get("FailureDetails", {})
        failure = f"{details.get('Code', 'UNKNOWN')}: {details.get('Message', 'no details given')}"
        return AnalysisStatus(state="failed", failure=failure)
    return AnalysisStatus(state="failed", failure=f"Rekognition reported an unknown job status: {status}")


def _succeeded(job: dict) -> AnalysisStatus:
    """The status of a job Rekognition says succeeded; failed if it names no output manifest."""
    results_key = job.get("Results", {}).get("S3Object", {}).get("Name")
    summary_key = job.get("ManifestSummary", {}).get("S3Object", {}).get("Name")
    if results_key is None:
        return AnalysisStatus(state="failed", failure="Rekognition reported success but named no results.")
    return AnalysisStatus(state="succeeded", results_key=results_key, summary_key=summary_key)


def read_outcome(
    entries: list[ManifestEntry], bucket: str, output_manifest: bytes, summary: bytes | None
) -> BulkOutcome:
    """Each entry's result or error from a finished job's output manifest and summary.

    Every entry ends with exactly one of the two: a summary error wins over a result (fail
    closed), and an entry that nothing names gets an error, never an approval.
    """
    _check_unique(entries)
    by_ref = {source_ref(bucket, entry.s3_key): entry for entry in entries}
    outcome = BulkOutcome()
    for number, line in enumerate(output_manifest.decode("utf-8", "replace").splitlines(), start=1):
        if line.strip():
            _read_output_line(number, line, by_ref, outcome)
    if summary is not None:
        _read_summary(summary, in_manifest_order(entries), by_ref, outcome)
    for entry in entries:
        if entry.virtual_image_id not in outcome.results and entry.virtual_image_id not in outcome.errors:
            outcome.errors[entry.virtual_image_id] = NO_RESULT
    return outcome


def _read_output_line(number: int, line: str, by_ref: dict[str, ManifestEntry], outcome: BulkOutcome) -> None:
    """Apply one output manifest line to the image its source-ref names."""
    try:
        record = json.loads(line)
    except ValueError:
        outcome.unknown.append(f"output line {number}: not JSON")
        return
    ref = record.get("source-ref") if isinstance(record, dict) else None
    if not isinstance(ref, str):
        outcome.unknown.append(f"output line {number}: no source-ref")
        return
    entry = by_ref.get(ref)
    if entry is None:
        outcome.unknown.append(ref)
        return
    image_id = entry.virtual_image_id
    if image_id in outcome.results or image_id in outcome.errors:
        outcome.duplicates.append(ref)
        return
    try:
        outcome.results[image_id] = result_from_answer(record.get("detect-moderation-labels") or {})
    except ModerationFailed as exc:
        outcome.errors[image_id] = str(exc)


def _read_summary(
    summary: bytes, ordered: list[ManifestEntry], by_ref: dict[str, ManifestEntry], outcome: BulkOutcome
) -> None:
    """Apply the summary's per-line errors to the images they name."""
    try:
        errors = json.loads(summary).get("errors") or []
    except (ValueError, AttributeError):
        outcome.unknown.append("manifest summary: not a JSON object")
        return
    for error in errors:
        if not isinstance(error, dict):
            outcome.unknown.append(f"manifest summary: malformed error {error!r}")
            continue
        entry = _entry_for_error(error, ordered, by_ref, outcome)
        if entry is not None:
            outcome.results.pop(entry.virtual_image_id, None)
            message = f"{error.get('code', 'UNKNOWN')}: {error.get('message', 'no message')}"
            outcome.errors[entry.virtual_image_id] = message


def _entry_for_error(
    error: dict, ordered: list[ManifestEntry], by_ref: dict[str, ManifestEntry], outcome: BulkOutcome
) -> ManifestEntry | None:
    """The entry a summary error names: by input line number, else by source-ref; None if neither."""
    # AWS's documentation spells the field "line-numer"; accept the corrected spelling too.
    number = error.get("line-numer", error.get("line-number"))
    ref = error.get("source-ref")
    if isinstance(number, int) and 1 <= number <= len(ordered):
        entry = ordered[number - 1]
        if ref is not None and by_ref.get(ref) is not entry:
            # A disagreement would mean line numbers are not what we think: make it visible.
            outcome.unknown.append(
                f"manifest summary: line {number} is {entry.s3_key} but the error names {ref}"
            )
        return entry
    if ref in by_ref:
        return by_ref[ref]
    outcome.unknown.append(f"manifest summary: error for line {number!r}, {ref!r} names no image")
    return None


def _check_unique(entries: list[ManifestEntry]) -> None:
    """Refuse entries whose keys or upload orders repeat: results could not be told apart."""
    if len({entry.s3_key for entry in entries}) != len(entries):
        raise ValueError("Two bulk entries share an S3 key; their results could not be told apart.")
    if len({entry.upload_order for entry in entries}) != len(entries):
        raise ValueError("Two bulk entries share an upload order; manifest lines would be ambiguous.")
