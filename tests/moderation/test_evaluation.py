"""The arithmetic of `flask moderation evaluate` on hand-made scores, and the reading of its labels."""

import re

import pytest

from webapp.providers.policy import DEFAULT_FLAG, DEFAULT_REJECT, Policy
from webapp.services.moderation.evaluation import (
    Sample,
    at_policy,
    confusion,
    per_category,
    score,
    summary,
    sweep,
    threshold_for_fpr,
)
from webapp.services.moderation.evaluation_labels import BadLabels, check_folder, read_labels

POLICY = Policy(reject=DEFAULT_REJECT, flag=DEFAULT_FLAG)
CATEGORIES = [*POLICY.reject, *POLICY.flag]


def sample(positive: bool, score: float, flagged: bool = False, category: str | None = None) -> Sample:
    return Sample(f"{positive}-{score}.jpg", positive, category, flagged, score)


# Three nsfw images scored 90, 60, 20 and four safe ones scored 70, 30, 10, 0.
SAMPLES = [
    sample(True, 90, flagged=True, category="Explicit"),
    sample(True, 60, flagged=True),
    sample(True, 20, category="Explicit"),
    sample(False, 70, flagged=True),
    sample(False, 30),
    sample(False, 10),
    sample(False, 0),
]


def test_confusion_counts_each_outcome_and_its_rates():
    counts = confusion(
        [(True, True), (True, True), (True, False), (False, True), (False, False)] + [(False, False)] * 3
    )

    assert (counts.tp, counts.fp, counts.tn, counts.fn) == (2, 1, 4, 1)
    assert counts.precision == pytest.approx(2 / 3, abs=1e-4)
    assert counts.recall == pytest.approx(2 / 3, abs=1e-4)
    assert counts.false_positive_rate == pytest.approx(1 / 5)


def test_rates_without_a_denominator_are_none_not_zero():
    only_safe = confusion([(False, False), (False, False)])

    assert only_safe.as_dict() == {
        "tp": 0,
        "fp": 0,
        "tn": 2,
        "fn": 0,
        "precision": None,
        "recall": None,
        "false_positive_rate": 0.0,
    }


def test_the_policy_confusion_counts_flagged_and_rejected_as_positive():
    assert at_policy(SAMPLES).as_dict() == {
        "tp": 2,
        "fp": 1,
        "tn": 3,
        "fn": 1,
        "precision": 0.6667,
        "recall": 0.6667,
        "false_positive_rate": 0.25,
    }


def test_a_score_at_the_threshold_counts_as_positive():
    rows = {row["threshold"]: row for row in sweep(SAMPLES, thresholds=[0, 60, 61, 100])}

    assert (rows[0]["tp"], rows[0]["fp"]) == (3, 4)
    assert (rows[60]["tp"], rows[60]["fp"]) == (2, 1)
    assert (rows[61]["tp"], rows[61]["fp"]) == (1, 1)
    assert (rows[100]["tp"], rows[100]["fp"], rows[100]["tn"], rows[100]["fn"]) == (0, 0, 4, 3)


def test_recall_and_false_positive_rate_never_rise_with_the_threshold():
    rows = sweep(SAMPLES)

    assert [row["threshold"] for row in rows] == list(range(0, 101, 5))
    recalls = [row["recall"] for row in rows]
    rates = [row["false_positive_rate"] for row in rows]
    assert recalls == sorted(recalls, reverse=True)
    assert rates == sorted(rates, reverse=True)


def test_the_threshold_for_a_target_is_the_lowest_that_meets_it():
    rows = sweep(SAMPLES)

    # Safe images score up to 70: from 75 none is flagged; from 35 one of four is.
    assert threshold_for_fpr(rows, 0.0) == 75
    assert threshold_for_fpr(rows, 0.25) == 35
    assert threshold_for_fpr(rows, 1.0) == 0


def test_no_threshold_meets_a_target_when_a_safe_image_scores_100_or_none_is_safe():
    assert threshold_for_fpr(sweep([sample(False, 100)]), 0.01) is None
    assert threshold_for_fpr(sweep([sample(True, 50)]), 0.01) is None


def test_the_score_is_the_highest_confidence_over_the_policys_categories_only():
    labels = [
        {"Name": "Violence", "ParentName": "", "Confidence": 99.0},
        {"Name": "Exposed Buttocks or Anus", "ParentName": "Explicit Nudity", "Confidence": 56.0},
        {"Name": "Explicit Nudity", "ParentName": "Explicit", "Confidence": 41.0},
    ]

    assert score(labels, POLICY) == 56.0
    assert score([], POLICY) == 0.0


def test_each_labelled_category_says_how_many_the_policy_caught():
    assert per_category(SAMPLES) == {"Explicit": {"n": 2, "caught": 1, "recall": 0.5}}


def test_the_summary_counts_positives_and_negatives():
    report = summary("local", SAMPLES, [{"filename": "broken.jpg", "reason": "corrupt"}], 4, 0.01)

    assert (report["n"], report["positives"], report["negatives"]) == (7, 3, 4)
    assert report["threshold_for_target_fpr"] == 75
    assert report["unreadable"] == [{"filename": "broken.jpg", "reason": "corrupt"}]
    assert report["images"][0] == {"filename": "True-90.jpg", "nsfw": True, "flagged": True, "score": 90}


def test_labels_are_read_with_a_header_any_case_and_categories():
    labels = read_labels("filename,label\na.jpg,Safe\nb.jpg, NSFW\n\nc/d.png,explicit\n", CATEGORIES)

    assert [(item.filename, item.positive, item.category, item.line) for item in labels] == [
        ("a.jpg", False, None, 2),
        ("b.jpg", True, None, 3),
        ("c/d.png", True, "Explicit", 5),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a.jpg,safe\nb.jpg,maybe\n", "Line 2: unknown label 'maybe' for b.jpg"),
        ("a.jpg,safe,extra\n", "Line 1: expected `filename,label`"),
        ("a.jpg\n", "Line 1: expected `filename,label`"),
        ("a.jpg,safe\na.jpg,nsfw\n", "Line 2: a.jpg is labelled twice"),
    ],
)
def test_a_bad_line_is_refused_by_its_number(text, message):
    with pytest.raises(BadLabels, match=re.escape(message)):
        read_labels(text, CATEGORIES)


def test_a_labelled_file_missing_from_the_folder_is_refused_by_its_line(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"x")
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "b.jpg").write_bytes(b"x")
    (tmp_path / "unlabelled.jpg").write_bytes(b"x")

    assert check_folder(tmp_path, read_labels("a.jpg,safe\nmore/b.jpg,nsfw\n", CATEGORIES)) == 1
    with pytest.raises(BadLabels, match=re.escape("Line 2: gone.jpg is not a file in")):
        check_folder(tmp_path, read_labels("a.jpg,safe\ngone.jpg,safe\n", CATEGORIES))
    with pytest.raises(BadLabels, match=re.escape("Line 1: ../a.jpg is not a file in")):
        check_folder(tmp_path / "more", read_labels("../a.jpg,safe\n", CATEGORIES))
