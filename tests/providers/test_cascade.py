"""The cascade's settings and its one decision: is a first answer in the uncertainty band."""

import pytest

from webapp.providers.cascade import Escalation, InvalidEscalation, parse_band, parse_escalation
from webapp.providers.registry import escalation
from webapp.services.moderation.second_opinion import Share


def category(name: str, confidence: float, parent: str = "") -> dict:
    return {"Name": name, "ParentName": parent, "Confidence": confidence, "TaxonomyLevel": 2 if parent else 1}


def test_a_band_is_parsed_per_category_with_either_separator():
    assert parse_band("Explicit=20-80, Suggestive = 30.5 - 70;Drugs & Tobacco=0-10") == {
        "Explicit": (20.0, 80.0),
        "Suggestive": (30.5, 70.0),
        "Drugs & Tobacco": (0.0, 10.0),
    }
    assert parse_band("") == {}


@pytest.mark.parametrize(
    ("band", "message"),
    [
        ("Explicit", r"'Explicit' is not 'Category=low-high'"),
        ("Explicit=20", r"'Explicit=20' is not 'Category=low-high'"),
        ("=20-80", r"'=20-80' is not 'Category=low-high'"),
        ("Explicit=eighty-90", r"is not 'Category=low-high'"),
        ("Explicit=80-20", r"'Explicit=80-20' needs 0 <= low <= high <= 100"),
        ("Explicit=20-180", r"needs 0 <= low <= high <= 100"),
    ],
)
def test_a_malformed_band_says_which_pair_and_why(band, message):
    with pytest.raises(InvalidEscalation, match=message):
        parse_escalation("rekognition", band)


def test_the_second_provider_is_checked_and_needs_a_band():
    assert parse_escalation("", "nonsense") is None
    with pytest.raises(InvalidEscalation, match="must be one of rekognition, external"):
        parse_escalation("local", "Explicit=20-80")
    with pytest.raises(InvalidEscalation, match="MODERATION_ESCALATE_BAND is empty"):
        parse_escalation("external", " ")


def test_a_second_provider_this_server_cannot_use_is_refused():
    config = {
        "MODERATION_ESCALATE": "rekognition",
        "MODERATION_ESCALATE_BAND": "Explicit=20-80",
        "S3_BUCKET": "",
    }
    with pytest.raises(InvalidEscalation, match="reads photos from S3"):
        escalation(config)


def test_a_first_answer_is_uncertain_when_any_category_of_the_band_is_within_it():
    cascade = Escalation("rekognition", {"Explicit": (20.0, 80.0), "Suggestive": (30.0, 70.0)})
    assert cascade.uncertain([category("Explicit", 20.0)])  # bounds included
    assert cascade.uncertain([category("Explicit", 80.0)])
    # A category's confidence is its highest label's, children included: 55 under a sure 10 parent.
    assert cascade.uncertain([category("Explicit", 10.0), category("Exposed Nipple", 55.0, "Explicit")])
    assert cascade.uncertain([category("Explicit", 95.0), category("Suggestive", 40.0)])
    assert not cascade.uncertain([category("Explicit", 80.1)])
    assert not cascade.uncertain([category("Explicit", 19.9), category("Suggestive", 71.0)])
    assert not cascade.uncertain([category("Violence", 50.0)])  # not a category of the band
    assert not cascade.uncertain([])  # an absent category is 0, outside this band
    assert Escalation("rekognition", {"Explicit": (0.0, 60.0)}).uncertain([])


def test_a_provider_is_never_escalated_to_its_own_model():
    to_rekognition = Escalation("rekognition", {"Explicit": (20.0, 80.0)})
    assert to_rekognition.applies_after("local")
    assert not to_rekognition.applies_after("rekognition")
    assert not to_rekognition.applies_after("rekognition_bulk")
    assert Escalation("external", {"Explicit": (20.0, 80.0)}).applies_after("rekognition_bulk")


def test_the_admin_reads_the_share_paid_for_twice():
    assert (
        Share(400, {"rekognition": 12}).sentence()
        == "Second opinion: 12 of 400 photos (3 %) went to rekognition."
    )
    assert Share(400, {}).sentence() is None
