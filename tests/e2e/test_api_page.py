"""The API page in a real browser: its Markdown reads as prose, its table of contents reaches every
operation of the OpenAPI document, and each operation shows an example request that runs."""

import json
import os
import re
import subprocess

import pytest
from playwright.sync_api import Page, expect

from tests.support.factories import make_user

pytestmark = pytest.mark.e2e

METHODS = ("get", "post", "put", "patch", "delete")


def test_the_table_of_contents_reaches_every_operation_each_with_an_example(page: Page, live_server):
    api = page.request.get(live_server + "/api/openapi.json").json()
    documented = [
        (method.upper(), path) for path, item in api["paths"].items() for method in item if method in METHODS
    ]

    page.goto(live_server + "/docs/api")
    links = page.locator(".api-toc li a")
    listed = [
        (link.locator(".method").inner_text(), link.locator("code").inner_text()) for link in links.all()
    ]
    assert sorted(listed) == sorted(documented)  # each operation once (the JSON's keys come sorted)
    for link in links.all():
        method, path = link.locator(".method").inner_text(), link.locator("code").inner_text()
        link.click()
        operation = page.locator(".api-operation:target")
        expect(operation).to_be_in_viewport()
        expect(operation.locator("h2")).to_have_text(f"{method} {path}")
        example = operation.locator("pre.example").inner_text()
        assert example.startswith(f"curl -X {method} " if method in ("PUT", "PATCH", "DELETE") else "curl ")
        assert f"{live_server}{_with_variables(path)}" in example
        secured = api["paths"][path][method.lower()].get("security", api["security"])
        assert ("Authorization: Bearer $TOKEN" in example) == bool(secured)


def test_descriptions_read_as_prose_not_markdown(page: Page, live_server):
    page.goto(live_server + "/docs/api")
    text = page.locator("main").inner_text()

    assert "`" not in text
    assert ".:" not in text and ". ." not in text
    upload = page.locator(".api-operation", has=page.locator("h2", has_text="/api/photos/upload"))
    expect(upload.locator(".description code", has_text="UPLOADS_PER_USER")).to_be_visible()
    expect(page.locator("#schema-Moderation code", has_text="hash_match").first).to_be_visible()


def test_an_example_runs_as_shown(page: Page, live_server, app):
    person = make_user(app, "api-reader@example.com")
    page.goto(live_server + "/docs/api")

    example = page.locator(
        ".api-operation", has=page.locator("h2", has_text=re.compile(r"^GET /api/photos$"))
    )
    command = example.locator("pre.example").inner_text()
    done = subprocess.run(
        ["bash", "-c", command], env={**os.environ, "TOKEN": person.token}, capture_output=True, check=True
    )
    assert json.loads(done.stdout)["photos"] == []


def _with_variables(path: str) -> str:
    """`/api/photos/{session_id}` as the examples write it: `/api/photos/$SESSION_ID`."""
    for part in path.split("/"):
        if part.startswith("{"):
            path = path.replace(part, "$" + part.strip("{}").upper())
    return path
