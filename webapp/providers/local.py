"""The `local` moderation provider: NudeNet's bundled 320n detector on ONNX Runtime, fully offline.

NudeNet names body parts (FEMALE_GENITALIA_EXPOSED, BUTTOCKS_EXPOSED, …), which map onto Rekognition's
v7 taxonomy down to level 3; bench/nsfw_models.py is the measurement behind the choice. Only the model
file is taken from the nudenet wheel: the session is built here, single-threaded, and the pre- and
post-processing run on the pixels the pipeline has already decoded.

Before the detections become labels, a mapped body part whose box is flat colour is discounted
(`weighed`): on drawings with flat colours and no people (an orange sun, overlapping shapes, stripes) the
320n model reports BUTTOCKS_EXPOSED at 0.5-0.65 about once in 100 pictures, and every such box is made
of runs of identical pixels, which a camera's grain does not leave in a photo of skin (issue 22).
bench/benign_illustrations.py measures it.

The 320n weights are an Ultralytics YOLOv8 export whose own metadata says AGPL-3.0, although the
nudenet package metadata says MIT.
"""

import ast
import functools
import importlib.metadata
from collections.abc import Sequence

import numpy as np
import onnxruntime as ort
from PIL import Image

from webapp.providers import ModerationResult, label

# NudeNet class → its path in Rekognition's v7 taxonomy, level 1 first. The other classes (faces, feet,
# armpits, belly, covered buttocks and anus) name no v7 category and stay in the raw output only.
TAXONOMY: dict[str, tuple[str, ...]] = {
    "FEMALE_GENITALIA_EXPOSED": ("Explicit", "Explicit Nudity", "Exposed Female Genitalia"),
    "MALE_GENITALIA_EXPOSED": ("Explicit", "Explicit Nudity", "Exposed Male Genitalia"),
    "BUTTOCKS_EXPOSED": ("Explicit", "Explicit Nudity", "Exposed Buttocks or Anus"),
    "ANUS_EXPOSED": ("Explicit", "Explicit Nudity", "Exposed Buttocks or Anus"),
    "FEMALE_BREAST_EXPOSED": ("Explicit", "Explicit Nudity", "Exposed Female Nipple"),
    "MALE_BREAST_EXPOSED": (
        "Non-Explicit Nudity of Intimate parts and Kissing",
        "Non-Explicit Nudity",
        "Exposed Male Nipple",
    ),
    "FEMALE_BREAST_COVERED": ("Swimwear or Underwear", "Female Swimwear or Underwear"),
    "FEMALE_GENITALIA_COVERED": ("Swimwear or Underwear", "Female Swimwear or Underwear"),
}
# NudeNet's own detect() reports boxes from 0.25 (Ultralytics' default too). The scores are not
# calibrated like Rekognition's, so weaker detections are still reported and policy thresholds decide.
MIN_SCORE = 0.25
NMS_IOU = 0.45
INPUT_SIZE = 320
# A box is sampled on a grid of at most this many pixels a side, without interpolation, so that flat
# colour stays flat and a photo's neighbouring samples stay apart; a grid under the smallest side is too
# few samples to judge and the detection counts as the model gave it.
FLAT_GRID, FLAT_MIN_GRID = 64, 8
# Only identical neighbours count as one colour: allowing a JPEG's few levels of noise would also take in
# a denoised phone photo's smooth skin. A flat box is also mostly a few colours, counted at 16 levels a
# channel: a slow gradient (a render, a studio backdrop) has identical neighbours too, but many colours.
FLAT_COLOURS = 6
# Measured (bench/benign_illustrations.py and ad hoc): mapped detections on the generated illustrations
# are 100 % flat, 80-95 % once saved as JPEG (stripes' ringing leaves them at 45-65 %); every detection, of
# any class, on the corpus' good photos at most 39 %; shaded skin with a faint grain (0.5 levels) 36 %.
# Only noise-free pixels reach it: a drawing, or a render with no grain, whose detection is discounted.
FLAT_SHARE = 0.75
# Discounted, not dropped: a drawing can be explicit too. A flat box then needs 0.75 to be flagged at the
# default 50 % and, at most 0.75, is never rejected unseen (80 %): a person decides.
FLAT_DISCOUNT = 0.25


class LocalModel:
    """NudeNet's 320n detector on a single-threaded ONNX Runtime session."""

    def __init__(self, model_path: str, model_version: str) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        # Spin-waiting pool threads were measured doubling the CPU cost of other code in the process.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        self._session = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        # The model names its classes in its metadata, as {index: name}: no hand-kept list to drift.
        names = ast.literal_eval(self._session.get_modelmeta().custom_metadata_map["names"])
        self.classes = [names[index] for index in range(len(names))]
        self.model_version = model_version

    def detect(self, pixels: Image.Image) -> list[dict]:
        """The model's detections on these pixels: class, score (0 to 1) and box [x, y, w, h] in pixels."""
        (output,) = self._session.run(None, {self._input: model_input(pixels)})
        return detections_from_output(output[0], self.classes, pixels.size)

    def moderate(self, pixels: Image.Image) -> ModerationResult:
        """Moderate decoded RGB or RGBA pixels, answering in Rekognition's shape."""
        detections = weighed(self.detect(pixels), pixels)
        answer = {"LocalModelOutput": {"detections": detections}}
        return ModerationResult(labels_from_detections(detections), self.model_version, "local", answer)


@functools.cache
def load_model() -> LocalModel:
    """The process's one LocalModel, built on first use from the model file inside the nudenet wheel.

    A worker calls it before forking its job processes, which then share the loaded model.
    """
    # Located through the distribution rather than imported: `import nudenet` loads OpenCV for nothing.
    wheel = importlib.metadata.distribution("nudenet")
    return LocalModel(str(wheel.locate_file("nudenet/320n.onnx")), f"nudenet-{wheel.version}/320n")


def model_input(pixels: Image.Image) -> np.ndarray:
    """The image fitted into the model's square at the top left, padded black: 1x3x320x320 RGB in 0..1."""
    scale = INPUT_SIZE / max(pixels.size)
    size = (max(1, round(pixels.width * scale)), max(1, round(pixels.height * scale)))
    if pixels.mode not in ("RGB", "RGBA"):
        pixels = pixels.convert("RGBA" if pixels.has_transparency_data else "RGB")
    # Resizing before flattening touches 320² pixels instead of millions; Pillow premultiplies alpha.
    small = pixels.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    # RGB, as Ultralytics models take it: nudenet 3.4.2's own detect() swaps in BGR (NudeNet issue #203).
    canvas = Image.new("RGB", (INPUT_SIZE, INPUT_SIZE))
    if small.mode == "RGBA":
        canvas.paste("white", (0, 0, *size))
        canvas.paste(small, (0, 0), small)
    else:
        canvas.paste(small)
    return np.ascontiguousarray((np.asarray(canvas, dtype=np.float32) / 255).transpose(2, 0, 1)[np.newaxis])


def detections_from_output(output: np.ndarray, classes: Sequence[str], size: tuple[int, int]) -> list[dict]:
    """One image's detections, best first, from the model's output, after class-agnostic NMS.

    The output has a column per anchor: centre x, centre y, width and height in the model's square, then
    one score per class.
    """
    class_scores = output[4:]
    keep = class_scores.max(axis=0) >= MIN_SCORE
    scores, class_ids = class_scores[:, keep].max(axis=0), class_scores[:, keep].argmax(axis=0)
    centres, extents = output[0:2, keep].T, output[2:4, keep].T
    corners = np.hstack([centres - extents / 2, centres + extents / 2]) * (max(size) / INPUT_SIZE)
    corners = np.clip(corners, 0, [*size, *size])
    detections = []
    for i in _suppress_overlaps(corners, scores):
        (left, top), (right, bottom) = corners[i, :2].tolist(), corners[i, 2:].tolist()
        box = [round(left), round(top), round(right - left), round(bottom - top)]
        detections.append({"class": classes[class_ids[i]], "score": round(float(scores[i]), 4), "box": box})
    return detections


def _suppress_overlaps(corners: np.ndarray, scores: np.ndarray) -> list[int]:
    """Indices of the boxes kept by greedy non-maximum suppression, highest score first."""
    areas = np.prod(corners[:, 2:] - corners[:, :2], axis=1)
    remaining = np.argsort(-scores, kind="stable")
    kept = []
    while remaining.size:
        best, rest = remaining[0], remaining[1:]
        kept.append(int(best))
        top_left = np.maximum(corners[best, :2], corners[rest, :2])
        overlap = np.minimum(corners[best, 2:], corners[rest, 2:]) - top_left
        intersection = np.prod(np.clip(overlap, 0, None), axis=1)
        iou = intersection / np.maximum(areas[best] + areas[rest] - intersection, 1e-9)
        remaining = rest[iou <= NMS_IOU]
    return kept


def weighed(detections: Sequence[dict], pixels: Image.Image) -> list[dict]:
    """The detections as their labels count them: a mapped body part whose box is flat colour (at least
    FLAT_SHARE of its samples, see `flat_share`) loses FLAT_DISCOUNT of its score.

    A discounted detection keeps the model's score as `model_score` and its box's `flat_share`; the other
    detections are returned as they came. Only mapped classes are measured: they alone make labels.
    """
    counted = []
    for detection in detections:
        share = flat_share(pixels, detection["box"]) if detection["class"] in TAXONOMY else None
        if share is not None and share >= FLAT_SHARE:
            score = round(max(detection["score"] - FLAT_DISCOUNT, 0.0), 4)
            detection = {**detection, "score": score, "model_score": detection["score"], "flat_share": share}
        counted.append(detection)
    return counted


def flat_share(pixels: Image.Image, box: Sequence[int]) -> float | None:
    """How much of a box is flat colour, 0 to 1; None when the box is too small to sample.

    Of an evenly spaced grid of samples (at most FLAT_GRID a side), the lesser of two shares: the samples
    identical to one of their four neighbours, and the samples in the box's FLAT_COLOURS commonest colours.
    """
    left, top, width, height = box
    grid = (min(FLAT_GRID, width), min(FLAT_GRID, height))
    if min(grid) < FLAT_MIN_GRID:
        return None
    # Nearest-neighbour sampling reads only the grid's pixels: well under a millisecond for any box.
    sample = pixels.resize(grid, Image.Resampling.NEAREST, box=(left, top, left + width, top + height))
    values = np.asarray(sample.convert("RGB"), dtype=np.int32)
    across = (values[:, 1:] == values[:, :-1]).all(axis=2)
    down = (values[1:] == values[:-1]).all(axis=2)
    same = np.zeros(grid[::-1], dtype=bool)
    same[:, 1:] |= across
    same[:, :-1] |= across
    same[1:] |= down
    same[:-1] |= down
    levels = values >> 4
    colours = np.bincount((levels[..., 0] * 256 + levels[..., 1] * 16 + levels[..., 2]).ravel())
    few = np.sort(colours)[-FLAT_COLOURS:].sum() / colours.sum()
    return round(float(min(same.mean(), few)), 4)


def labels_from_detections(detections: Sequence[dict], min_score: float = MIN_SCORE) -> list[dict]:
    """Rekognition-shaped labels for detections: each mapped class with its ancestors, strongest first.

    A label appears once, with the highest score of any detection under it, so a parent's confidence is
    the maximum of its children's; detections scoring below `min_score` are dropped.
    """
    best: dict[tuple[str, str, int], float] = {}
    for detection in detections:
        if detection["score"] < min_score:
            continue
        path = TAXONOMY.get(detection["class"], ())
        for level, name in enumerate(path, start=1):
            key = (name, path[level - 2] if level > 1 else "", level)
            best[key] = max(best.get(key, 0.0), detection["score"])
    ordered = sorted(best.items(), key=lambda item: (-item[1], item[0][2], item[0][0]))
    return [label(name, parent, score * 100, level) for (name, parent, level), score in ordered]
