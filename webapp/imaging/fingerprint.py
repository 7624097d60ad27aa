"""The perceptual fingerprint of a photo: its PDQ hash, the hash trust-and-safety lists are exchanged in.

Computed with `pdqhash` (the PDQ reference implementation threatexchange builds on) from the
pixels the pipeline already decoded, fitted to 512 px first: PDQ reduces every image to 64x64
anyway, and hashing 2048 px costs ~17x the time for the same result within match distance.
"""

from dataclasses import dataclass

from PIL import Image

HASHED_SIDE = 512
# The share cut from each side for the centre crops a bank keeps beside an image's own hash.
CROP_MARGINS = (0.025, 0.05, 0.075)
# PDQ's cut-off (threatexchange's PdqSignal.QUALITY_THRESHOLD, not imported: web processes do not load
# faiss): a hash of quality under 50, of a flat or nearly blank image, is too unreliable to match on.
MIN_QUALITY = 50


@dataclass(frozen=True)
class Fingerprint:
    """A PDQ hash (64 hex digits, 256 bits) and its quality, 0-100 (low: too flat to match on)."""

    pdq: str
    quality: int

    def distance(self, other: "Fingerprint") -> int:
        """How many of the 256 bits differ: 31 or fewer is PDQ's usual match."""
        from threatexchange.signal_type.pdq.pdq_utils import simple_distance

        return simple_distance(self.pdq, other.pdq)


def crop_fingerprints(pixels: Image.Image) -> list[Fingerprint]:
    """The PDQ hashes of the image's centre with CROP_MARGINS cut from each side.

    PDQ is not robust to crops (a copy cropped 5 % on each side is 50-100 bits away), but a copy
    cropped by about as much as one of these is within a few bits of that crop's hash.
    """
    fingerprints = []
    for margin in CROP_MARGINS:
        left, top = round(pixels.width * margin), round(pixels.height * margin)
        fingerprints.append(fingerprint(pixels.crop((left, top, pixels.width - left, pixels.height - top))))
    return fingerprints


def fingerprint(pixels: Image.Image) -> Fingerprint:
    """The PDQ hash of an image (any mode; transparency is dropped, as PDQ sees only luminance)."""
    # Imported here: a web process hashes only when a person rejects an image (its crops), and need not
    # carry numpy, PDQ and threatexchange (~25 MiB) until then.
    import numpy as np
    import pdqhash
    from threatexchange.signal_type.pdq.pdq_utils import binary_str_to_hex

    ratio = HASHED_SIDE / max(pixels.size)
    if ratio < 1:
        size = (max(1, round(pixels.width * ratio)), max(1, round(pixels.height * ratio)))
        pixels = pixels.resize(size, Image.Resampling.BOX)
    bits, quality = pdqhash.compute(np.asarray(pixels.convert("RGB")))
    return Fingerprint(binary_str_to_hex("".join(str(bit) for bit in bits)), int(quality))
