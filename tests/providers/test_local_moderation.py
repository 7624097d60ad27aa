"""Tests of the local moderation provider: the bundled model on innocent images made in memory, and the
mapping of its raw output (written by hand, no explicit image anywhere) onto Rekognition's labels."""

import importlib.metadata
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

from webapp.models import ModerationStatus
from webapp.providers.local import (
    FLAT_DISCOUNT,
    MIN_SCORE,
    TAXONOMY,
    detections_from_output,
    flat_share,
    labels_from_detections,
    load_model,
    model_input,
    weighed,
)
from webapp.providers.policy import DEFAULT_FLAG, DEFAULT_REJECT, Policy

EXPLICIT = ("Explicit", "", 1), ("Explicit Nudity", "Explicit", 2)
NON_EXPLICIT = (
    ("Non-Explicit Nudity of Intimate parts and Kissing", "", 1),
    ("Non-Explicit Nudity", "Non-Explicit Nudity of Intimate parts and Kissing", 2),
)
SWIMWEAR = ("Swimwear or Underwear", "", 1), ("Female Swimwear or Underwear", "Swimwear or Underwear", 2)


def landscape(size: tuple[int, int]) -> Image.Image:
    """A sky-to-horizon gradient over green hills, with a sun."""
    width, height = size
    sky = Image.linear_gradient("L").resize(size)
    picture = Image.merge("RGB", [sky.point(lambda v: v // 2), sky, Image.new("L", size, 230)])
    draw = ImageDraw.Draw(picture)
    draw.ellipse((width * 0.7, height * 0.1, width * 0.8, height * 0.1 + width * 0.1), fill=(255, 220, 90))
    draw.polygon(
        [(0, height), (0, height * 0.6), (width * 0.4, height * 0.5), (width, height * 0.7), (width, height)],
        fill=(40, 120, 50),
    )
    return picture


def geometry(size: tuple[int, int]) -> Image.Image:
    """Squares, circles and a line on a transparent background."""
    width, height = size
    picture = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(picture)
    for i in range(8):
        x, y = width * i // 8, height * (i % 3) // 3
        draw.rectangle((x, y, x + width // 10, y + height // 5), fill=(40 * i, 200 - 20 * i, 90, 255))
        draw.ellipse(
            (x, height // 2, x + width // 9, height // 2 + width // 9), outline=(0, 0, 160, 255), width=4
        )
    draw.line((0, height - 1, width, 0), fill=(200, 30, 30, 255), width=6)
    return picture


def sun(size: tuple[int, int] = (800, 600)) -> Image.Image:
    """An orange disc on a flat blue sky, as drawings are coloured: runs of identical pixels."""
    picture = Image.new("RGB", size, (120, 180, 240))
    ImageDraw.Draw(picture).ellipse((300, 150, 500, 350), fill=(255, 150, 40))
    return picture


def skin(grain: float = 3.0, size: tuple[int, int] = (800, 600)) -> Image.Image:
    """A skin tone shaded from left to right, with a camera's grain (its standard deviation, in levels)."""
    shade = np.linspace(0.8, 1.1, size[0])[np.newaxis, :, np.newaxis]
    noise = np.random.default_rng(0).normal(0, grain, (size[1], size[0], 3))
    values = np.array([224, 172, 140]) * shade + noise
    return Image.fromarray(np.clip(values, 0, 255).astype(np.uint8))


def detection(name: str, score: float, box: list[int] | None = None) -> dict:
    """One raw detection as the model reports it."""
    return {"class": name, "score": score, "box": box or [10, 20, 30, 40]}


def expected(score: float, *labels: tuple[str, str, int]) -> list[dict]:
    """Rekognition-shaped labels, all at one confidence (in percent)."""
    return [
        {"Name": n, "ParentName": p, "Confidence": score, "TaxonomyLevel": level} for n, p, level in labels
    ]


@pytest.mark.parametrize(
    "pixels",
    [
        landscape((2048, 1536)),
        geometry((1024, 768)),
        landscape((300, 800)).convert("L"),
        geometry((64, 48)).convert("P"),
    ],
    ids=["RGB 2048x1536", "RGBA 1024x768", "L 300x800", "P with transparency 64x48"],
)
def test_the_model_finds_nothing_on_innocent_images(pixels):
    result = load_model().moderate(pixels)

    assert result.source == "local"
    assert result.model_version == f"nudenet-{importlib.metadata.version('nudenet')}/320n"
    assert result.labels == []
    assert json.loads(json.dumps(result.answer)) == result.answer
    assert set(result.answer) == {"ModerationLabels", "ModerationModelVersion", "LocalModelOutput"}
    assert result.answer["ModerationModelVersion"] == result.model_version
    assert all(
        d["score"] >= MIN_SCORE and d["class"] not in TAXONOMY
        for d in result.answer["LocalModelOutput"]["detections"]
    )


def test_model_input_fits_the_image_top_left_on_black_and_shows_transparency_on_white():
    blob = model_input(Image.new("RGBA", (640, 320), (255, 0, 0, 0)))

    assert blob.shape == (1, 3, 320, 320) and blob.dtype == np.float32
    assert (blob[:, :, :160, :] == 1).all()
    assert (blob[:, :, 160:, :] == 0).all()


def test_the_model_is_loaded_once_per_process():
    assert load_model() is load_model()
    assert set(TAXONOMY) <= set(load_model().classes)


@pytest.mark.parametrize(
    ("name", "labels"),
    [
        ("FEMALE_GENITALIA_EXPOSED", (*EXPLICIT, ("Exposed Female Genitalia", "Explicit Nudity", 3))),
        ("MALE_GENITALIA_EXPOSED", (*EXPLICIT, ("Exposed Male Genitalia", "Explicit Nudity", 3))),
        ("BUTTOCKS_EXPOSED", (*EXPLICIT, ("Exposed Buttocks or Anus", "Explicit Nudity", 3))),
        ("ANUS_EXPOSED", (*EXPLICIT, ("Exposed Buttocks or Anus", "Explicit Nudity", 3))),
        ("FEMALE_BREAST_EXPOSED", (*EXPLICIT, ("Exposed Female Nipple", "Explicit Nudity", 3))),
        ("MALE_BREAST_EXPOSED", (*NON_EXPLICIT, ("Exposed Male Nipple", "Non-Explicit Nudity", 3))),
        ("FEMALE_BREAST_COVERED", SWIMWEAR),
        ("FEMALE_GENITALIA_COVERED", SWIMWEAR),
    ],
)
def test_each_class_maps_to_its_label_with_every_ancestor(name, labels):
    assert labels_from_detections([detection(name, 0.875)]) == expected(87.5, *labels)


@pytest.mark.parametrize(
    "name",
    [
        "FACE_FEMALE",
        "FACE_MALE",
        "FEET_EXPOSED",
        "FEET_COVERED",
        "ARMPITS_EXPOSED",
        "ARMPITS_COVERED",
        "BELLY_EXPOSED",
        "BELLY_COVERED",
        "BUTTOCKS_COVERED",
        "ANUS_COVERED",
    ],
)
def test_classes_outside_the_taxonomy_make_no_label(name):
    assert labels_from_detections([detection(name, 0.99)]) == []


def test_labels_are_deduplicated_with_parents_at_their_strongest_child_and_sorted_by_confidence():
    detections = [
        detection("BUTTOCKS_EXPOSED", 0.5),
        detection("ANUS_EXPOSED", 0.7),
        detection("BUTTOCKS_EXPOSED", 0.6),
        detection("FEMALE_BREAST_EXPOSED", 0.8),
        detection("MALE_BREAST_EXPOSED", 0.95),
        detection("FEMALE_BREAST_COVERED", 0.3),
        detection("FACE_FEMALE", 0.99),
        detection("FEMALE_GENITALIA_EXPOSED", 0.2),
    ]

    assert labels_from_detections(detections) == [
        *expected(95.0, *NON_EXPLICIT, ("Exposed Male Nipple", "Non-Explicit Nudity", 3)),
        *expected(80.0, *EXPLICIT, ("Exposed Female Nipple", "Explicit Nudity", 3)),
        *expected(70.0, ("Exposed Buttocks or Anus", "Explicit Nudity", 3)),
        *expected(30.0, *SWIMWEAR),
    ]


def test_detections_below_the_minimum_score_are_dropped():
    assert labels_from_detections([detection("ANUS_EXPOSED", MIN_SCORE)]) != []
    assert labels_from_detections([detection("ANUS_EXPOSED", MIN_SCORE - 0.001)]) == []
    assert labels_from_detections([detection("ANUS_EXPOSED", 0.6)], min_score=0.7) == []


def test_raw_output_is_decoded_with_overlaps_suppressed_and_boxes_in_image_pixels():
    # Columns: centre x, centre y, width, height in the 320 square, then scores for classes A, B, C.
    anchors = [
        [50, 50, 20, 40, 0.9, 0.1, 0.0],  # A
        [52, 50, 20, 40, 0.0, 0.8, 0.0],  # B over the same spot: suppressed whatever its class
        [310, 100, 40, 20, 0.0, 0.0, 0.6],  # C, past the right edge: clipped
        [200, 200, 20, 20, 0.0, MIN_SCORE - 0.01, 0.0],  # too weak
    ]
    output = np.array(anchors, dtype=np.float32).T

    detections = detections_from_output(output, ["A", "B", "C"], (640, 480))

    assert detections == [
        {"class": "A", "score": 0.9, "box": [80, 60, 40, 80]},
        {"class": "C", "score": 0.6, "box": [580, 180, 60, 40]},
    ]


DISC = [290, 140, 220, 220]
POLICY = Policy(DEFAULT_REJECT, DEFAULT_FLAG)


def test_a_body_part_in_a_flat_colour_box_is_discounted_below_the_flag_threshold():
    counted = weighed([detection("BUTTOCKS_EXPOSED", 0.56, DISC)], sun())

    assert counted == [
        {"class": "BUTTOCKS_EXPOSED", "score": 0.31, "box": DISC, "model_score": 0.56, "flat_share": 1.0}
    ]
    assert POLICY.verdict(labels_from_detections(counted)) == ModerationStatus.APPROVED


@pytest.mark.parametrize("grain", [3.0, 0.5], ids=["a camera's grain", "a denoised photo's faint grain"])
def test_a_textured_skin_toned_box_counts_as_the_model_scored_it(grain):
    detections = [detection("BUTTOCKS_EXPOSED", 0.56, DISC), detection("FEMALE_BREAST_EXPOSED", 0.9, DISC)]

    assert flat_share(skin(grain), DISC) < 0.5
    assert weighed(detections, skin(grain)) == detections
    assert POLICY.verdict(labels_from_detections(detections)) == ModerationStatus.REJECTED


def test_a_confident_detection_in_a_flat_box_is_still_flagged_for_a_person_but_never_rejected_unseen():
    (counted,) = weighed([detection("FEMALE_GENITALIA_EXPOSED", 0.99, DISC)], sun())

    assert counted["score"] == pytest.approx(0.99 - FLAT_DISCOUNT)
    assert POLICY.verdict(labels_from_detections([counted])) == ModerationStatus.FLAGGED


@pytest.mark.parametrize(
    ("found", "why"),
    [
        (detection("FACE_FEMALE", 0.9, DISC), "a class that makes no label"),
        (detection("BUTTOCKS_EXPOSED", 0.6, [380, 230, 7, 40]), "a box too narrow to sample"),
    ],
)
def test_detections_the_check_cannot_or_need_not_judge_are_left_as_they_came(found, why):
    assert weighed([found], sun()) == [found], why


def test_flat_share_samples_the_box_alone_in_any_mode():
    half = Image.new("L", (200, 100), 0)
    half.paste(
        Image.fromarray(np.random.default_rng(1).integers(0, 255, (100, 100), dtype=np.uint8)), (100, 0)
    )

    assert flat_share(half, [0, 0, 100, 100]) == 1.0
    assert flat_share(half, [100, 0, 100, 100]) < 0.2
    assert flat_share(half.convert("P"), [0, 0, 100, 100]) == 1.0
    assert flat_share(half, [0, 0, 100, 7]) is None


def test_a_gradient_is_not_flat_colour_though_its_rows_repeat():
    backdrop = Image.linear_gradient("L").convert("RGB")

    assert flat_share(backdrop, [0, 0, 256, 256]) < 0.5


def test_moderate_counts_the_discounted_detections_and_keeps_the_model_score_in_its_answer(monkeypatch):
    model = load_model()
    monkeypatch.setattr(model, "detect", lambda pixels: [detection("BUTTOCKS_EXPOSED", 0.56, DISC)])

    result = model.moderate(sun())

    assert [item["Confidence"] for item in result.labels] == [31.0, 31.0, 31.0]
    (stored,) = result.answer["LocalModelOutput"]["detections"]
    assert (stored["score"], stored["model_score"], stored["flat_share"]) == (0.31, 0.56, 1.0)
