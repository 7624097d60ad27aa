"""Tests of Rekognition moderation, per image and in bulk, against AWS's own service model via Stubber."""

import datetime
import io
import json
import re
import uuid
from collections.abc import Iterator

import pytest
from botocore.client import BaseClient
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber
from PIL import Image

from webapp.imaging.contact_sheet import GAP
from webapp.providers import ModerationFailed, ModerationResult, ModerationUnavailable, label
from webapp.providers.rekognition import (
    RekognitionModerator,
    StoredObject,
    rekognition_client,
    rekognition_errors,
    rekognition_source,
)
from webapp.providers.rekognition_bulk import (
    NO_RESULT,
    AnalysisStatus,
    ManifestEntry,
    build_manifest,
    get_analysis,
    manifest_key,
    output_prefix,
    read_outcome,
    start_analysis,
)

BUCKET = "photogate-photos"
JOB_ID = uuid.UUID("0b5c6a1e-9d1f-4d6b-8c2e-3f4a5b6c7d8e")

NESTED_LABELS = [
    {"Name": "Violence", "ParentName": "", "Confidence": 91.25, "TaxonomyLevel": 1},
    {"Name": "Graphic Violence", "ParentName": "Violence", "Confidence": 88.5, "TaxonomyLevel": 2},
    {"Name": "Blood & Gore", "ParentName": "Graphic Violence", "Confidence": 80.1234, "TaxonomyLevel": 3},
]


@pytest.fixture(scope="module")
def client() -> Iterator[BaseClient]:
    """The app's Rekognition client for us-east-1, with dummy credentials and no profile."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.delenv("AWS_SESSION_TOKEN", raising=False)
        env.delenv("AWS_PROFILE", raising=False)
        rekognition_client.cache_clear()
        yield rekognition_client("us-east-1")
        rekognition_client.cache_clear()


@pytest.fixture
def stub(client) -> Iterator[Stubber]:
    """A Stubber on the client that fails the test if a queued answer was never asked for."""
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def stored(content_type="image/jpeg", width=1200, height=800, size=2_000_000, key="s/original.jpg"):
    """A stored image with the given properties."""
    return StoredObject(BUCKET, key, content_type, width, height, size)


# --- the client ---


def test_client_is_shared_and_fails_fast(client):
    assert rekognition_client("us-east-1") is client
    assert client.meta.region_name == "us-east-1"
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert client.meta.config.connect_timeout <= 10
    assert client.meta.config.read_timeout <= 60


# --- DetectModerationLabels ---


def test_moderate_reads_the_s3_object_and_keeps_the_whole_answer(client, stub):
    answer = {
        "ModerationLabels": NESTED_LABELS,
        "ModerationModelVersion": "7.0",
        "ContentTypes": [{"Confidence": 72.7257, "Name": "Animated"}],
    }
    stub.add_response(
        "detect_moderation_labels",
        {**answer, "ResponseMetadata": {"HTTPStatusCode": 200, "RequestId": "r-1"}},
        expected_params={
            "Image": {"S3Object": {"Bucket": BUCKET, "Name": "s/original.jpg"}},
            "MinConfidence": 60.0,
        },
    )

    result = RekognitionModerator(client, min_confidence=60.0).moderate(stored())

    assert result == ModerationResult(
        labels=[
            label("Violence", "", 91.25, 1),
            label("Graphic Violence", "Violence", 88.5, 2),
            label("Blood & Gore", "Graphic Violence", 80.123, 3),
        ],
        model_version="7.0",
        source="rekognition",
        answer=answer,
    )
    assert "ResponseMetadata" not in result.answer


def test_moderate_defaults_to_rekognitions_own_min_confidence(client, stub):
    stub.add_response(
        "detect_moderation_labels",
        {"ModerationLabels": [], "ModerationModelVersion": "7.0"},
        expected_params={"Image": {"S3Object": {"Bucket": BUCKET, "Name": "k.png"}}, "MinConfidence": 50.0},
    )
    result = RekognitionModerator(client).moderate(stored("image/png", key="k.png"))
    assert result.labels == []
    assert result.answer == {"ModerationLabels": [], "ModerationModelVersion": "7.0"}


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ThrottlingException", 400),
        ("ProvisionedThroughputExceededException", 400),
        ("InternalServerError", 500),
        ("ServiceUnavailable", 503),
        ("TooManyRequestsException", 429),
    ],
)
def test_throttling_and_server_errors_are_unavailable(client, stub, code, status):
    stub.add_client_error("detect_moderation_labels", code, "Rate exceeded", http_status_code=status)
    with pytest.raises(ModerationUnavailable, match=code):
        RekognitionModerator(client).moderate(stored())


@pytest.mark.parametrize(
    "code",
    [
        "InvalidImageFormatException",
        "InvalidS3ObjectException",
        "ImageTooLargeException",
        "InvalidParameterException",
        "AccessDeniedException",
    ],
)
def test_image_and_request_errors_fail_for_good(client, stub, code):
    stub.add_client_error("detect_moderation_labels", code, "Request has invalid image", http_status_code=400)
    with pytest.raises(ModerationFailed) as raised:
        RekognitionModerator(client).moderate(stored())
    assert str(raised.value) == f"Rekognition cannot read this image ({code}: Request has invalid image)."


def test_an_answer_without_labels_never_approves(client, stub):
    stub.add_response("detect_moderation_labels", {"ModerationModelVersion": "7.0"})
    with pytest.raises(ModerationFailed, match="without ModerationLabels"):
        RekognitionModerator(client).moderate(stored())


def test_connection_errors_are_unavailable():
    with pytest.raises(ModerationUnavailable, match="could not be reached"), rekognition_errors("never"):
        raise EndpointConnectionError(endpoint_url="https://rekognition.us-east-1.amazonaws.com")


class Sent:
    """Stands for any value in a Stubber's expected parameters, and keeps the one sent."""

    value = None

    def __eq__(self, other) -> bool:
        self.value = other
        return True


def sheet_cells(data: bytes, columns: int, rows: int) -> list[tuple[int, int, int]]:
    """The colour at the centre of each cell of a contact sheet sent as JPEG bytes, reading order."""
    sheet = Image.open(io.BytesIO(data))
    assert sheet.format == "JPEG"
    cell = ((sheet.width - (columns - 1) * GAP) // columns, (sheet.height - (rows - 1) * GAP) // rows)
    return [
        tuple(
            round(v / 255) * 255
            for v in sheet.getpixel((c * (cell[0] + GAP) + cell[0] // 2, r * (cell[1] + GAP) + cell[1] // 2))
        )
        for r in range(rows)
        for c in range(columns)
    ]


def test_an_animation_is_sent_as_one_contact_sheet_of_its_sampled_frames(client, stub):
    colours = ["red", "lime", "blue", "yellow", "cyan", "magenta", "white"]
    frames = [(n * 5, Image.new("RGB", (640, 480), colour)) for n, colour in enumerate(colours)]
    sent = Sent()
    stub.add_response(
        "detect_moderation_labels",
        {"ModerationLabels": NESTED_LABELS, "ModerationModelVersion": "7.0"},
        expected_params={"Image": {"Bytes": sent}, "MinConfidence": 60.0},
    )

    result = RekognitionModerator(client, min_confidence=60.0).moderate_frames(frames)

    # 7 frames: 3 columns of 512 px tiles over 3 rows, the last two cells empty (white).
    assert Image.open(io.BytesIO(sent.value)).size == (3 * 512 + 2 * GAP, 3 * 384 + 2 * GAP)
    pure = [Image.new("RGB", (1, 1), colour).getpixel((0, 0)) for colour in colours]
    assert sheet_cells(sent.value, 3, 3) == [*pure, (255, 255, 255), (255, 255, 255)]
    assert result.labels[0] == label("Violence", "", 91.25, 1)
    assert result.answer["Frames"] == {
        "sampled": [0, 5, 10, 15, 20, 25, 30],
        "contact_sheet": {"columns": 3, "rows": 3, "tile": 512},
    }


def test_sixteen_frames_fill_a_sheet_of_about_2048_px_and_more_make_smaller_tiles(client, stub):
    for count, tile in ((16, 512), (25, 409)):
        sent = Sent()
        stub.add_response(
            "detect_moderation_labels",
            {"ModerationLabels": [], "ModerationModelVersion": "7.0"},
            expected_params={"Image": {"Bytes": sent}, "MinConfidence": 50.0},
        )
        frames = [(n, Image.new("RGB", (800, 800), "teal")) for n in range(count)]

        result = RekognitionModerator(client).moderate_frames(frames)

        columns = result.answer["Frames"]["contact_sheet"]["columns"]
        assert result.answer["Frames"]["contact_sheet"]["tile"] == tile
        assert Image.open(io.BytesIO(sent.value)).size == (columns * tile + (columns - 1) * GAP,) * 2
        assert len(sent.value) < 5_000_000


# --- which object Rekognition reads ---

DERIVATIVE = stored(key="s/thumbnail_original.jpg", width=1024, height=683, size=150_000)


@pytest.mark.parametrize("content_type", ["image/jpeg", "image/png"])
def test_a_jpeg_or_png_original_within_limits_is_sent_itself(content_type):
    original = stored(content_type, width=10_000, height=80, size=15_000_000)
    assert rekognition_source(original, DERIVATIVE) is original


@pytest.mark.parametrize(
    "original",
    [
        stored("image/webp"),
        stored("image/gif"),
        stored(size=15_000_001),
        stored(width=79, height=800),
        stored(width=800, height=60),
        stored(width=12_000, height=9_000),
        stored(width=4_000, height=10_001),
    ],
    ids=["webp", "gif", "too-large", "too-narrow", "too-short", "too-wide", "too-tall"],
)
def test_an_unsuitable_original_is_replaced_by_its_jpeg_derivative(original):
    assert rekognition_source(original, DERIVATIVE) is DERIVATIVE


def test_neither_suitable_fails_with_both_reasons():
    with pytest.raises(ModerationFailed) as raised:
        rekognition_source(stored("image/webp"), stored(width=50, height=40))
    assert "(image/webp) is not JPEG or PNG" in str(raised.value)
    assert "50x40 px, below 80 px" in str(raised.value)


def test_no_derivative_fails():
    with pytest.raises(ModerationFailed, match="no JPEG derivative"):
        rekognition_source(stored("image/heic"), None)


# --- bulk: manifest and AWS calls ---


def entry(order: int, name: str) -> ManifestEntry:
    """A bulk entry whose photo folder is named after `name`."""
    return ManifestEntry(uuid.uuid5(JOB_ID, name), f"{name}/original.jpg", order)


def ref(name: str) -> str:
    """The source-ref of `entry(_, name)`."""
    return f"s3://{BUCKET}/{name}/original.jpg"


def test_manifest_lists_images_in_upload_order_under_the_job_folder():
    manifest = build_manifest(BUCKET, [entry(7, "c"), entry(2, "a"), entry(5, "b")])
    assert manifest.decode().splitlines() == [
        json.dumps({"source-ref": ref("a")}),
        json.dumps({"source-ref": ref("b")}),
        json.dumps({"source-ref": ref("c")}),
    ]
    assert manifest.endswith(b"\n")
    assert manifest_key(JOB_ID) == f"jobs/{JOB_ID}/manifest.jsonl"
    assert output_prefix(JOB_ID) == f"jobs/{JOB_ID}/output/"


def test_manifest_refuses_entries_that_could_not_be_told_apart():
    with pytest.raises(ValueError, match="S3 key"):
        build_manifest(BUCKET, [entry(1, "a"), ManifestEntry(uuid.uuid4(), "a/original.jpg", 2)])
    with pytest.raises(ValueError, match="upload order"):
        build_manifest(BUCKET, [entry(1, "a"), entry(1, "b")])


def test_start_analysis_is_idempotent_by_job_id(client, stub):
    stub.add_response(
        "start_media_analysis_job",
        {"JobId": "aws-job-1"},
        expected_params={
            "ClientRequestToken": str(JOB_ID),
            "JobName": f"photogate-{JOB_ID}",
            "OperationsConfig": {"DetectModerationLabels": {"MinConfidence": 40.0}},
            "Input": {"S3Object": {"Bucket": BUCKET, "Name": f"jobs/{JOB_ID}/manifest.jsonl"}},
            "OutputConfig": {"S3Bucket": BUCKET, "S3KeyPrefix": f"jobs/{JOB_ID}/output/"},
        },
    )
    assert start_analysis(client, JOB_ID, BUCKET, 40.0) == "aws-job-1"


def test_job_name_and_token_match_the_models_patterns(client):
    # botocore checks lengths but not patterns, so check these against the model here.
    members = client.meta.service_model.operation_model("StartMediaAnalysisJob").input_shape.members
    for member, value in [("ClientRequestToken", str(JOB_ID)), ("JobName", f"photogate-{JOB_ID}")]:
        shape = members[member]
        assert re.fullmatch(shape.metadata["pattern"], value)
        assert len(value) <= shape.metadata["max"]


@pytest.mark.parametrize(
    ("code", "status", "raised"),
    [
        ("ThrottlingException", 400, ModerationUnavailable),
        ("LimitExceededException", 400, ModerationUnavailable),
        ("InternalServerError", 500, ModerationUnavailable),
        ("InvalidManifestException", 400, ModerationFailed),
        ("AccessDeniedException", 400, ModerationFailed),
    ],
)
def test_start_analysis_errors(client, stub, code, status, raised):
    stub.add_client_error("start_media_analysis_job", code, "no", http_status_code=status)
    with pytest.raises(raised, match=code):
        start_analysis(client, JOB_ID, BUCKET, 50.0)


def media_job(status: str, **fields) -> dict:
    """A GetMediaAnalysisJob answer with every required field."""
    return {
        "JobId": "aws-job-1",
        "OperationsConfig": {"DetectModerationLabels": {"MinConfidence": 50.0}},
        "Status": status,
        "CreationTimestamp": datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC),
        "Input": {"S3Object": {"Bucket": BUCKET, "Name": manifest_key(JOB_ID)}},
        "OutputConfig": {"S3Bucket": BUCKET, "S3KeyPrefix": output_prefix(JOB_ID)},
        **fields,
    }


SUCCEEDED = media_job(
    "SUCCEEDED",
    Results={
        "S3Object": {"Bucket": BUCKET, "Name": f"jobs/{JOB_ID}/output/results.jsonl"},
        "ModelVersions": {"Moderation": "7.0"},
    },
    ManifestSummary={"S3Object": {"Bucket": BUCKET, "Name": f"jobs/{JOB_ID}/output/summary.json"}},
)


@pytest.mark.parametrize(
    ("job", "expected"),
    [
        (media_job("CREATED"), AnalysisStatus("running")),
        (media_job("QUEUED"), AnalysisStatus("running")),
        (media_job("IN_PROGRESS"), AnalysisStatus("running")),
        (
            SUCCEEDED,
            AnalysisStatus(
                "succeeded",
                results_key=f"jobs/{JOB_ID}/output/results.jsonl",
                summary_key=f"jobs/{JOB_ID}/output/summary.json",
            ),
        ),
        (
            media_job("SUCCEEDED"),
            AnalysisStatus("failed", failure="Rekognition reported success but named no results."),
        ),
        (
            media_job("FAILED", FailureDetails={"Code": "INVALID_MANIFEST", "Message": "Line 3 is bad"}),
            AnalysisStatus("failed", failure="INVALID_MANIFEST: Line 3 is bad"),
        ),
    ],
    ids=["created", "queued", "in-progress", "succeeded", "succeeded-without-results", "failed"],
)
def test_get_analysis(client, stub, job, expected):
    stub.add_response("get_media_analysis_job", job, expected_params={"JobId": "aws-job-1"})
    assert get_analysis(client, "aws-job-1") == expected


def test_get_analysis_of_a_missing_job_fails(client, stub):
    stub.add_client_error("get_media_analysis_job", "ResourceNotFoundException", "gone", http_status_code=400)
    with pytest.raises(ModerationFailed, match="ResourceNotFoundException: gone"):
        get_analysis(client, "aws-job-1")


# --- bulk: mapping results back to images ---


def output_line(source: str, labels: list[dict], version: str = "7.0") -> str:
    """One output manifest line as Rekognition writes it."""
    answer = {"ModerationLabels": labels, "ModerationModelVersion": version, "ContentTypes": []}
    return json.dumps({"source-ref": source, "detect-moderation-labels": answer})


def summary(*errors: dict) -> bytes:
    """A manifest summary with the given errors."""
    total = 8
    statistics = {"total-json-lines": total, "valid-json-lines": total - len(errors), "invalid-json-lines": 0}
    return json.dumps({"version": "1.0", "statistics": statistics, "errors": list(errors)}).encode()


def rekognition_result(labels: list[dict], version: str = "7.0") -> ModerationResult:
    """The result read_outcome should give for an output line with these labels."""
    answer = {"ModerationLabels": labels, "ModerationModelVersion": version, "ContentTypes": []}
    return ModerationResult([label(**_args(item)) for item in labels], version, "rekognition", answer)


def _args(item: dict) -> dict:
    """label()'s arguments for a label in Rekognition's shape."""
    return {
        "name": item["Name"],
        "parent": item["ParentName"],
        "confidence": item["Confidence"],
        "level": item["TaxonomyLevel"],
    }


def test_read_outcome_maps_every_line_by_source_ref_and_never_by_position():
    # Given in neither upload nor manifest order; manifest lines: a b c d e f g h.
    names = ["e", "a", "h", "c", "g", "b", "f", "d"]
    orders = {"a": 3, "b": 4, "c": 10, "d": 11, "e": 12, "f": 20, "g": 21, "h": 30}
    entries = [entry(orders[name], name) for name in names]
    ids = {name: uuid.uuid5(JOB_ID, name) for name in names}
    output = "\n".join(
        [
            output_line(ref("e"), NESTED_LABELS),
            output_line(ref("a"), []),
            "this is not json {",
            output_line(ref("c"), NESTED_LABELS[:1], version="6.1"),
            output_line(ref("a"), NESTED_LABELS),
            output_line(f"s3://{BUCKET}/stranger/original.jpg", NESTED_LABELS),
            output_line("s3://other-bucket/b/original.jpg", NESTED_LABELS),
            json.dumps({"detect-moderation-labels": {"ModerationLabels": []}}),
            "",
            json.dumps({"source-ref": ref("h")}),
        ]
    ).encode()
    errors = summary(
        {"line-numer": 4, "code": "InvalidImageFormat", "message": "Unsupported image format"},
        {"line-number": 6, "code": "InvalidS3Object", "message": "Unable to get object metadata"},
        {"source-ref": ref("g"), "code": "ImageTooLarge", "message": "Image is too large"},
        {"line-numer": 99, "code": "InternalError", "message": "?"},
    )

    outcome = read_outcome(entries, BUCKET, output, errors)

    assert outcome.results == {
        ids["a"]: rekognition_result([]),
        ids["c"]: rekognition_result(NESTED_LABELS[:1], version="6.1"),
        ids["e"]: rekognition_result(NESTED_LABELS),
    }
    assert outcome.errors == {
        ids["b"]: NO_RESULT,
        ids["d"]: "InvalidImageFormat: Unsupported image format",
        ids["f"]: "InvalidS3Object: Unable to get object metadata",
        ids["g"]: "ImageTooLarge: Image is too large",
        ids["h"]: "Rekognition answered without ModerationLabels or ModerationModelVersion.",
    }
    assert outcome.duplicates == [ref("a")]
    assert outcome.unknown == [
        "output line 3: not JSON",
        f"s3://{BUCKET}/stranger/original.jpg",
        "s3://other-bucket/b/original.jpg",
        "output line 8: no source-ref",
        "manifest summary: error for line 99, None names no image",
    ]


def test_a_summary_error_wins_over_a_result_and_a_disagreeing_source_ref_is_reported():
    entries = [entry(1, "a"), entry(2, "b")]
    output = "\n".join([output_line(ref("a"), []), output_line(ref("b"), [])]).encode()
    errors = summary(
        {"line-numer": 2, "source-ref": ref("a"), "code": "InvalidImageFormat", "message": "bad"}
    )

    outcome = read_outcome(entries, BUCKET, output, errors)

    assert outcome.results == {entries[0].virtual_image_id: rekognition_result([])}
    assert outcome.errors == {entries[1].virtual_image_id: "InvalidImageFormat: bad"}
    assert outcome.unknown == [f"manifest summary: line 2 is b/original.jpg but the error names {ref('a')}"]


def test_without_output_or_summary_every_image_is_an_error():
    entries = [entry(1, "a"), entry(2, "b")]
    outcome = read_outcome(entries, BUCKET, b"", None)
    assert outcome.results == {}
    assert outcome.errors == {item.virtual_image_id: NO_RESULT for item in entries}


def test_a_malformed_summary_is_reported_not_raised():
    outcome = read_outcome([entry(1, "a")], BUCKET, output_line(ref("a"), []).encode(), b"[1, 2]")
    assert outcome.unknown == ["manifest summary: not a JSON object"]
    assert list(outcome.results) == [entry(1, "a").virtual_image_id]
