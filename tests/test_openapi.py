"""The OpenAPI document is the API: it matches the routes, reads as a page, and no input makes a 5xx.

Schemathesis generates requests for every operation of the document (bounded, so the suite stays
fast) as an ordinary user and as an admin, and checks each answer: never a 5xx, and status, content
type and body as the document says.
"""

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.factories import make_user
from webapp.views.api_reference import markdown_inline
from webapp.views.openapi import document

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def test_the_document_is_valid_openapi_3_1(client):
    served = client.get("/api/openapi.json").get_json()

    assert served["openapi"].startswith("3.1")
    assert served == document()
    validate(served)


def test_the_document_has_exactly_the_apps_api_operations(app, client):
    document = client.get("/api/openapi.json").get_json()
    documented = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    routed = {
        (method, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }

    assert documented == routed


def test_the_api_page_reads_every_operation_to_people(client):
    document = client.get("/api/openapi.json").get_json()

    page = client.get("/docs/api").get_data(as_text=True)

    for path, item in document["paths"].items():
        for method in item.keys() & HTTP_METHODS:
            assert f'<h2><span class="method">{method.upper()}</span> <code>{path}</code></h2>' in page


def test_markdown_in_descriptions_is_shown_never_run():
    shown = markdown_inline(
        "`code` *said* [docs](https://example.com) <script>alert(1)</script> [x](javascript:alert(1))"
    )

    assert shown.startswith('<code>code</code> <em>said</em> <a href="https://example.com">docs</a> ')
    assert "&lt;script&gt;" in shown and "<script" not in shown
    assert 'href="javascript' not in shown


@pytest.fixture
def unheard(app, monkeypatch):
    """Photos the fuzzer manages to upload wait in a queue no worker listens to (the next test empties it)."""
    monkeypatch.setitem(app.config, "QUEUE_NAME", "fuzzed-nobody-listens")


@pytest.fixture
def admin_caller(app):
    return make_user(app, "fuzz-admin@example.com", admin=True)


# Loaded from the same function that serves /api/openapi.json (the first tests prove they agree).
schema = schemathesis.openapi.from_dict(document())
FUZZING = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@schema.parametrize()
@FUZZING
def test_no_input_from_a_user_gets_a_5xx_and_every_answer_matches_the_document(case, app, user, unheard):
    case.call_and_validate(app=app, headers=user.headers, checks=CHECKS)


@schema.parametrize()
@FUZZING
def test_no_input_from_an_admin_gets_a_5xx_and_every_answer_matches_the_document(
    case, app, admin_caller, unheard
):
    case.call_and_validate(app=app, headers=admin_caller.headers, checks=CHECKS)
