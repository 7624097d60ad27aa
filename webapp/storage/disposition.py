"""The Content-Disposition that gives a download the name it was uploaded with (RFC 6266, RFC 8187)."""

import unicodedata
from urllib.parse import quote

# Never part of a name in the header: a quote or a backslash would end or escape the quoted string, a
# path separator would name a folder to save into.
CUT = frozenset('"\\/')
# The name of a file whose uploaded name leaves nothing once cut.
NAMELESS = "photo"


def content_disposition(filename: str, disposition: str = "inline") -> str:
    """`inline` (shown, saved under the name) or `attachment` (saved) with `filename` twice: a plain
    ASCII `filename` for old clients, and the exact name as UTF-8 in `filename*` for every other."""
    name = "".join(char for char in filename if char not in CUT and not _is_control(char)).strip()
    name = name or NAMELESS
    return f"{disposition}; filename=\"{_ascii(name)}\"; filename*=UTF-8''{quote(name, safe='')}"


def _is_control(char: str) -> bool:
    # Control and format characters: line breaks would split the header; a right-to-left override
    # would show "photo\u202egpj.exe" as "photoexe.jpg".
    return unicodedata.category(char)[0] == "C"


def _ascii(name: str) -> str:
    """The name in printable ASCII: accents dropped ("é" is "e"), anything else an underscore."""
    letters = (char for char in unicodedata.normalize("NFKD", name) if not unicodedata.combining(char))
    # A "%" in the plain name is read as an escape by some browsers (RFC 6266, appendix D).
    return "".join(char if " " <= char <= "~" and char != "%" else "_" for char in letters)
