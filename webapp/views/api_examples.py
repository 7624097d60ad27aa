"""Example requests for the API page, made from the OpenAPI document: a curl command per operation.

Placeholders are shell variables (`$TOKEN`, `$SESSION_ID`) and values come from each schema (its
`examples`, `const`, first `enum` value or format), so an operation added to the document gets its
example with no more writing.
"""

import json
import shlex
from typing import Any

# A value for each format the document uses; any other string is "string", as Swagger UI writes it.
FORMATS = {
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "date-time": "2026-01-01T00:00:00Z",
    "uri": "https://example.com/hook",
}


def curl_example(
    document: dict, method: str, path: str, operation: dict, parameters: list[dict], base_url: str
) -> str:
    """One curl command that calls the operation: method, URL, authentication, headers and body."""
    options = []
    if operation.get("security", document.get("security")):
        options.append('-H "Authorization: Bearer $TOKEN"')
    options += [f'-H "{p["name"]}: ${_variable(p["name"])}"' for p in parameters if p["in"] == "header"]
    body = _body_options(document, operation.get("requestBody"))
    options += body
    verb = "" if method == "get" or (method == "post" and body) else f" -X {method.upper()}"
    url = base_url + _url_path(document, path, parameters)
    return " \\\n  ".join([f'curl{verb} "{url}"', *options])


def _url_path(document: dict, path: str, parameters: list[dict]) -> str:
    """The path with its parameters as variables, and the required query parameters."""
    for parameter in parameters:
        if parameter["in"] == "path":
            name = parameter["name"]
            path = path.replace(f"{{{name}}}", "$" + _variable(name))
    query = [
        f"{p['name']}={_scalar(example_value(document, p['schema']))}"
        for p in parameters
        if p["in"] == "query" and p.get("required")
    ]
    return path + ("?" + "&".join(query) if query else "")


def _body_options(document: dict, request_body: dict | None) -> list[str]:
    """curl's options that send the body, in the first media type the operation takes."""
    if not request_body:
        return []
    media, content = next(iter(request_body["content"].items()))
    schema = _resolved(document, content.get("schema", {}))
    if media == "application/json":
        payload = json.dumps(example_value(document, schema), ensure_ascii=False)
        return ['-H "Content-Type: application/json"', "-d " + shlex.quote(payload)]
    if media == "multipart/form-data":
        return [
            "-F " + shlex.quote(field)
            for name, field_schema in _shown_properties(schema).items()
            for field in _form_fields(document, name, field_schema)
        ]
    suffix = {"text/csv": "csv", "text/plain": "txt"}.get(media, "bin")
    return [f'-H "Content-Type: {media}"', f"--data-binary @data.{suffix}"]


def _form_fields(document: dict, name: str, schema: dict) -> list[str]:
    """`name=value` for each part of a form field: a file is `@` a file name, an array two parts."""
    schema = _resolved(document, schema)
    if schema.get("type") == "array":
        item = _resolved(document, schema["items"])
        if item.get("format") == "binary":
            return [f"{name}=@photo-1.jpg", f"{name}=@photo-2.jpg"]
        return [f"{name}={_scalar(example_value(document, item))}"]
    if schema.get("format") == "binary":
        return [f"{name}=@photo.jpg"]
    return [f"{name}={_scalar(example_value(document, schema))}"]


def example_value(document: dict, schema: dict) -> Any:
    """A value the schema accepts: its example, constant or first choice, else one of its type."""
    schema = _resolved(document, schema)
    if schema.get("examples"):
        return schema["examples"][0]
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = _type(schema)
    if kind == "object":
        return {name: example_value(document, field) for name, field in _shown_properties(schema).items()}
    if kind == "array":
        return [example_value(document, schema.get("items", {}))]
    if schema.get("format") in FORMATS:
        return FORMATS[schema["format"]]
    if kind in ("integer", "number"):
        return schema.get("default", schema.get("minimum", 0))
    return {"boolean": True, "null": None}.get(kind, "string")


def _shown_properties(schema: dict) -> dict:
    """The fields an example fills: the required ones, or every one when none is required."""
    properties = schema.get("properties", {})
    required = [name for name in schema.get("required", []) if name in properties]
    return {name: properties[name] for name in required} if required else properties


def _type(schema: dict) -> str | None:
    """The schema's type; of a nullable type (`["string", "null"]`), the one that is not null."""
    kind = schema.get("type")
    if isinstance(kind, list):
        return next((one for one in kind if one != "null"), "null")
    return kind


def _resolved(document: dict, schema: dict) -> dict:
    """The schema a `$ref` names, or the schema itself."""
    if "$ref" in schema:
        return document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _scalar(value: Any) -> str:
    """A value as it is written in a query string or a form field."""
    return json.dumps(value) if isinstance(value, bool) or value is None else str(value)


def _variable(name: str) -> str:
    """The shell variable that stands for a parameter: `session_id` is `SESSION_ID`."""
    return name.upper().replace("-", "_")
