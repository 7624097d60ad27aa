"""`flask moderation evaluate` over a generated folder: the bundled model for real, Rekognition stubbed."""

import io
import json

import pytest
from PIL import Image

from tests.support.factories import encoded, image_bytes, scene
from webapp.extensions import db
from webapp.models import PhotoSession, VirtualImage

EXPLICIT = [
    {"Name": "Explicit Nudity", "ParentName": "Explicit", "Confidence": 93.1, "TaxonomyLevel": 2},
    {"Name": "Explicit", "ParentName": "", "Confidence": 93.1, "TaxonomyLevel": 1},
]
SWIMWEAR = [{"Name": "Swimwear or Underwear", "ParentName": "", "Confidence": 97.0, "TaxonomyLevel": 1}]
LABELS = """filename,label
safe-1.jpg,safe
safe-2.jpg,safe
nested/safe-3.png,safe
safe-4.webp,safe
nsfw-1.jpg,nsfw
nsfw-2.jpg,NSFW
explicit.png,Explicit
broken.jpg,safe
"""


@pytest.fixture
def folder(tmp_path):
    """Photo-like pictures named as LABELS says, a file that is no image, and one left unlabelled."""
    (tmp_path / "nested").mkdir()
    formats = {".jpg": "JPEG", ".png": "PNG", ".webp": "WEBP"}
    names = [line.split(",")[0] for line in LABELS.splitlines()[1:] if not line.startswith("broken")]
    for seed, name in enumerate([*names, "unlabelled.jpg"]):
        (tmp_path / name).write_bytes(encoded(scene(seed, (480, 360)), formats[name[name.rindex(".") :]]))
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")
    return tmp_path


def evaluate(app, folder, labels: str, *options: str):
    labels_file = folder.parent / "labels.csv"
    labels_file.write_text(labels)
    args = ["moderation", "evaluate", str(folder), "--labels", str(labels_file), *options]
    return app.test_cli_runner().invoke(args=args)


def test_the_local_model_is_measured_on_the_labelled_images_and_nothing_is_stored(app, folder, bucket_keys):
    result = evaluate(app, folder, LABELS, "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["provider"] == "local"
    assert (report["n"], report["positives"], report["negatives"]) == (7, 3, 4)
    assert [item["filename"] for item in report["unreadable"]] == ["broken.jpg"]
    assert report["unlabelled"] == 1
    current = report["at_current_thresholds"]
    assert current["tp"] + current["fn"] == 3 and current["fp"] + current["tn"] == 4
    assert report["per_category"]["Explicit"]["n"] == 1
    recalls = [row["recall"] for row in report["sweep"]]
    assert recalls[0] == 1.0 and recalls == sorted(recalls, reverse=True)
    assert report["threshold_for_target_fpr"] in [row["threshold"] for row in report["sweep"]]
    with app.app_context():
        assert db.session.query(PhotoSession).count() == db.session.query(VirtualImage).count() == 0
    assert bucket_keys() == []


def test_the_text_report_shows_the_confusion_the_sweep_and_the_chosen_threshold(app, folder):
    result = evaluate(app, folder, LABELS, "--provider", "local", "--target-fpr", "0.5")

    assert result.exit_code == 0, result.output
    assert (
        "local: 7 image(s), 3 nsfw, 4 safe; 1 unreadable; 1 file(s) without a label ignored." in result.output
    )
    assert "At the current thresholds: tp " in result.output
    assert "  100: tp " in result.output
    assert "Lowest threshold with a false positive rate at most 0.5: " in result.output
    assert "Unreadable: broken.jpg: " in result.output


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (LABELS + "safe-1.jpg,nsfw\n", "Line 10: safe-1.jpg is labelled twice."),
        (LABELS.replace("nsfw-2.jpg,NSFW", "nsfw-2.jpg,rude"), "Line 7: unknown label 'rude' for nsfw-2.jpg"),
        (LABELS + "missing.jpg,safe\n", "Line 10: missing.jpg is not a file in"),
        ("safe-1.jpg;safe\n", "Line 1: expected `filename,label`"),
    ],
)
def test_bad_label_lines_are_refused_by_their_number(app, folder, labels, message):
    result = evaluate(app, folder, labels)

    assert result.exit_code == 1
    assert message in result.output


@pytest.mark.parametrize(
    ("provider", "message"),
    [
        ("external", "answers later, by webhook"),
        ("rekognition_bulk", "evaluate its model per image with --provider rekognition"),
        ("nudenet", "Unknown moderation provider 'nudenet'"),
    ],
)
def test_providers_that_cannot_answer_now_are_refused(app, folder, provider, message):
    result = evaluate(app, folder, LABELS, "--provider", provider)

    assert result.exit_code == 1
    assert message in result.output


def test_rekognition_is_sent_each_still_images_bytes_and_one_sheet_per_animation(app, tmp_path, rekognition):
    explicit, swimwear = image_bytes(), encoded(scene(1, (480, 360)), "PNG")
    frames = [scene(seed, (240, 180)) for seed in range(3)]
    (tmp_path / "explicit.jpg").write_bytes(explicit)
    (tmp_path / "swimwear.png").write_bytes(swimwear)
    (tmp_path / "tiny.jpg").write_bytes(image_bytes(size=(40, 40)))
    (tmp_path / "animated.gif").write_bytes(
        encoded(frames[0], "GIF", save_all=True, append_images=frames[1:])
    )
    sheet = Sent()
    for data, labels in ((explicit, EXPLICIT), (swimwear, SWIMWEAR), (sheet, EXPLICIT)):
        rekognition.add_response(
            "detect_moderation_labels",
            {"ModerationLabels": labels, "ModerationModelVersion": "7.0"},
            {"Image": {"Bytes": data}, "MinConfidence": 50.0},
        )

    labels = "explicit.jpg,Explicit\nswimwear.png,safe\ntiny.jpg,safe\nanimated.gif,nsfw\n"
    result = evaluate(app, tmp_path, labels, "--provider", "rekognition", "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["at_current_thresholds"] == {
        "tp": 2,
        "fp": 0,
        "tn": 1,
        "fn": 0,
        "precision": 1.0,
        "recall": 1.0,
        "false_positive_rate": 0.0,
    }
    [tiny] = report["unreadable"]
    assert tiny["filename"] == "tiny.jpg" and "below 80 px" in tiny["reason"]
    # The animation's three 240x180 frames went as one sheet of two columns.
    assert Image.open(io.BytesIO(sheet.value)).width >= 2 * 240


class Sent:
    """Matches any value in a Stubber's expected parameters, and keeps it."""

    value = None

    def __eq__(self, other) -> bool:
        self.value = other
        return True
