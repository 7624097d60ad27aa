"""A contact sheet: an animation's sampled frames tiled in reading order on one picture."""

import math
from collections.abc import Sequence

from PIL import Image

from webapp.imaging.animation import fitted

# White between the tiles, so nothing seems to run on from one frame into the next.
GAP = 8


def grid(pictures: int) -> tuple[int, int]:
    """Columns and rows of a sheet of this many pictures: as square as it can be, filled row by row."""
    columns = math.ceil(math.sqrt(pictures))
    return columns, math.ceil(pictures / columns)


def contact_sheet(pictures: Sequence[Image.Image], tile: int) -> Image.Image:
    """The pictures, each fitted within `tile` px and centred in its cell, on a white RGB sheet
    (transparency shows white)."""
    columns, rows = grid(len(pictures))
    tiles = [fitted(picture, tile) for picture in pictures]
    cell = (max(t.width for t in tiles), max(t.height for t in tiles))
    size = (columns * cell[0] + (columns - 1) * GAP, rows * cell[1] + (rows - 1) * GAP)
    sheet = Image.new("RGB", size, "white")
    for n, picture in enumerate(tiles):
        row, column = divmod(n, columns)
        left = column * (cell[0] + GAP) + (cell[0] - picture.width) // 2
        top = row * (cell[1] + GAP) + (cell[1] - picture.height) // 2
        sheet.paste(picture, (left, top), picture if picture.mode == "RGBA" else None)
    return sheet
