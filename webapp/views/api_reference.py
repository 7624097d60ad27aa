"""The API page's reading of the OpenAPI document: its operations in order, each with an anchor for
the table of contents and an example request, and its Markdown made into safe HTML."""

import re
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markupsafe import Markup

from webapp.views.api_examples import curl_example

HTTP_METHODS = ("get", "post", "put", "patch", "delete")

# CommonMark with raw HTML off: a `<tag>` in a description is shown as text, never run, and links
# to javascript: and the like are not made (markdown-it's validateLink).
_markdown = MarkdownIt("commonmark", {"html": False})


def markdown(text: str | None) -> Markup:
    """A description's Markdown as HTML blocks (paragraphs, lists)."""
    return Markup(_markdown.render(text or ""))


def markdown_inline(text: str | None) -> Markup:
    """A summary's or a field's Markdown as inline HTML (code, emphasis, links)."""
    return Markup(_markdown.renderInline(text or ""))


@dataclass(frozen=True)
class Operation:
    """One operation as the page shows it."""

    anchor: str
    method: str
    path: str
    spec: dict
    parameters: list[dict]
    example: str


def operations(document: dict, base_url: str) -> list[Operation]:
    """Every operation of the document in its order, with a unique anchor and a curl example."""
    found: list[Operation] = []
    anchors: set[str] = set()
    for path, item in document["paths"].items():
        for method in (method for method in item if method in HTTP_METHODS):
            spec = item[method]
            parameters = item.get("parameters", []) + spec.get("parameters", [])
            anchor = _unique(_slug(f"{method} {path}"), anchors)
            example = curl_example(document, method, path, spec, parameters, base_url)
            found.append(Operation(anchor, method, path, spec, parameters, example))
    return found


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "-", text.lower()).strip("-")


def _unique(anchor: str, taken: set[str]) -> str:
    """`anchor`, or with a number after it when another operation's path made the same one."""
    candidate, number = anchor, 1
    while candidate in taken:
        number += 1
        candidate = f"{anchor}-{number}"
    taken.add(candidate)
    return candidate
