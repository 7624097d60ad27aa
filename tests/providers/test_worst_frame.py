"""An animation moderated frame by frame: the worst frame's labels decide, and the answer says which frame.

The model is a stand-in that answers each frame by its colour (no explicit image exists in the tests);
the real mapping of its detections onto labels and the real policy do the rest. Frames are grainy, as a
photo is: the mapping discounts a detection on flat colour (a drawing)."""

from PIL import Image, ImageStat

from webapp.providers import registry
from webapp.providers.local import LocalModel
from webapp.providers.policy import DEFAULT_FLAG, DEFAULT_REJECT, Policy
from webapp.providers.worst_frame import worst_frame

POLICY = Policy(reject=DEFAULT_REJECT, flag=DEFAULT_FLAG)  # Explicit: reject at 80, flag at 50
# What the stand-in detects on a frame of each colour.
DETECTS = {
    "red": [("BUTTOCKS_EXPOSED", 0.91)],  # rejected
    "yellow": [("BUTTOCKS_EXPOSED", 0.66)],  # flagged
    "orange": [("FEMALE_BREAST_EXPOSED", 0.58)],  # flagged, less sure
    "blue": [("FEMALE_BREAST_COVERED", 0.97), ("FACE_FEMALE", 0.9)],  # approved: swimwear has no threshold
}


COLOURS = [*DETECTS, "green"]


def grainy(colour: str, size: tuple[int, int] = (320, 240)) -> Image.Image:
    """A frame of one colour with noise over it, the noise a third of each pixel."""
    noise = Image.effect_noise(size, 64).convert("RGB")
    return Image.blend(Image.new("RGB", size, colour), noise, 1 / 3)


class ByColour(LocalModel):
    """Stands in for the model: detects by a frame's colour (the nearest to its mean), and notes what it
    saw."""

    def __init__(self) -> None:
        self.model_version = "stand-in"
        self.seen: list[str] = []

    def detect(self, pixels: Image.Image) -> list[dict]:
        mean = ImageStat.Stat(pixels.convert("RGB")).mean
        colour = min(
            COLOURS, key=lambda name: sum((a - b) ** 2 for a, b in zip(mean, _rgb(name), strict=True))
        )
        self.seen.append(colour)
        width, height = pixels.size
        box = [width // 4, height // 4, width // 2, height // 2]
        return [{"class": name, "score": score, "box": box} for name, score in DETECTS.get(colour, [])]


def _rgb(name: str) -> tuple[int, int, int]:
    return Image.new("RGB", (1, 1), name).getpixel((0, 0))


def frames(*colours: str, step: int = 3) -> list[tuple[int, Image.Image]]:
    """Frames of these colours at every `step`-th index of the file, as the walk samples them."""
    return [(n * step, grainy(colour)) for n, colour in enumerate(colours)]


def test_a_rejected_frame_in_the_middle_decides_and_the_answer_names_it():
    model = ByColour()

    result = worst_frame(model, frames("green", "blue", "red", "yellow", "green"), POLICY)

    assert model.seen == ["green", "blue", "red", "yellow", "green"]
    assert POLICY.verdict(result.labels) == "rejected"
    assert result.labels == model.moderate(grainy("red")).labels
    assert result.answer["ModerationLabels"] == result.labels
    assert result.answer["LocalModelOutput"]["detections"][0]["class"] == "BUTTOCKS_EXPOSED"
    seen = result.answer["Frames"]
    assert (seen["sampled"], seen["decided_by"]) == ([0, 3, 6, 9, 12], 6)
    assert [(f["frame"], f["verdict"]) for f in seen["per_frame"]] == [
        (0, "approved"),
        (3, "approved"),
        (6, "rejected"),
        (9, "flagged"),
        (12, "approved"),
    ]
    assert seen["per_frame"][2] == {
        "frame": 6,
        "verdict": "rejected",
        "label": "Explicit",
        "confidence": 91.0,
    }
    assert seen["per_frame"][0] == {"frame": 0, "verdict": "approved", "label": None, "confidence": 0.0}


def test_the_most_severe_verdict_outranks_a_stronger_label_and_confidence_breaks_a_tie():
    flagged = worst_frame(ByColour(), frames("blue", "orange", "yellow", "green"), POLICY)
    assert (POLICY.verdict(flagged.labels), flagged.answer["Frames"]["decided_by"]) == ("flagged", 6)

    approved = worst_frame(ByColour(), frames("green", "blue", "green"), POLICY)
    assert (POLICY.verdict(approved.labels), approved.answer["Frames"]["decided_by"]) == ("approved", 3)
    assert approved.labels[0]["Name"] == "Swimwear or Underwear"

    nothing = worst_frame(ByColour(), frames("green", "green"), POLICY)
    assert (nothing.labels, nothing.answer["Frames"]["decided_by"]) == ([], 0)


def test_a_still_photo_is_moderated_once_and_answered_as_before(monkeypatch):
    model = ByColour()
    monkeypatch.setattr(registry, "local_model", lambda: model)

    still = grainy("yellow", (640, 480))

    result = registry.get("local").moderate(registry.Photo(still, None, None))

    assert model.seen == ["yellow"]
    assert set(result.answer) == {"ModerationLabels", "ModerationModelVersion", "LocalModelOutput"}
    assert result == model.moderate(still)
    assert POLICY.verdict(result.labels) == "flagged"
