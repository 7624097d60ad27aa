"""The labels of an evaluation: a CSV of `filename,label` naming files of one folder.

A label is `safe`, `nsfw`, or a category the policy has a threshold for (e.g. `Explicit`), which
counts as nsfw and is also reported on its own. Filenames are paths relative to the folder.
"""

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from webapp.errors import AppError

SAFE, NSFW = "safe", "nsfw"


class BadLabels(AppError):
    code = "bad_labels"
    status = 422


@dataclass(frozen=True)
class Label:
    filename: str
    positive: bool
    category: str | None
    line: int


def read_labels(text: str, categories: Iterable[str]) -> list[Label]:
    """The labels of a CSV; BadLabels names the first line that is not `filename,label` with a known label.

    A first line `filename,label` is a header and skipped; blank lines are skipped.
    """
    by_name = {category.lower(): category for category in categories}
    labels: dict[str, Label] = {}
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells) or (number == 1 and [c.lower() for c in cells] == ["filename", "label"]):
            continue
        if len(cells) != 2 or not cells[0]:
            raise BadLabels(f"Line {number}: expected `filename,label`, got {','.join(row)!r}.")
        filename, given = cells
        if filename in labels:
            raise BadLabels(f"Line {number}: {filename} is labelled twice.")
        labels[filename] = _label(number, filename, given, by_name)
    return list(labels.values())


def _label(number: int, filename: str, given: str, categories: dict[str, str]) -> Label:
    name = given.lower()
    if name in (SAFE, NSFW):
        return Label(filename, name == NSFW, None, number)
    if name in categories:
        return Label(filename, True, categories[name], number)
    known = ", ".join([SAFE, NSFW, *sorted(categories.values())])
    raise BadLabels(f"Line {number}: unknown label {given!r} for {filename}; use one of {known}.")


def check_folder(folder: Path, labels: list[Label]) -> int:
    """Check every labelled file is in `folder`; return how many files there have no label (ignored)."""
    for item in labels:
        relative = PurePosixPath(item.filename)
        if relative.is_absolute() or ".." in relative.parts or not (folder / relative).is_file():
            raise BadLabels(f"Line {item.line}: {item.filename} is not a file in {folder}.")
    labelled = {PurePosixPath(item.filename) for item in labels}
    present = {
        PurePosixPath(path.relative_to(folder).as_posix()) for path in folder.rglob("*") if path.is_file()
    }
    return len(present - labelled)
