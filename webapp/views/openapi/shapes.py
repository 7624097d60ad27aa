"""The building blocks of the OpenAPI document: shared shapes, error answers and small constructors.

Every object an answer carries is closed (`additionalProperties: false`), so the contract test fails
on a field the server sends and the document does not name.
"""

from webapp.models import ModerationStatus, SessionStatus
from webapp.providers.registry import PROVIDERS
from webapp.views.params import MAX_FILENAME_SEARCH, MAX_PAGE, MAX_PER_PAGE, MAX_URL_LENGTH

UUID = {"type": "string", "format": "uuid"}
TIME = {"type": ["string", "null"], "format": "date-time"}
NULLABLE_STRING = {"type": ["string", "null"]}
INTEGER = {"type": "integer"}

ERRORS = {
    400: "Malformed: a parameter or body that is not what the operation reads (the message names it).",
    401: "Not authenticated: log in, or send `Authorization: Bearer <token>`.",
    403: "Not allowed for your role (user, moderator, admin): the operation says who may.",
    404: "Not found, or not yours.",
    409: "Conflicts with the state of the job or image.",
    413: "Too large.",
    415: "Not a supported image.",
    422: "Understood but invalid (the message names the field).",
    429: "Too many requests; `Retry-After` says when to try again.",
    503: "A backing service is down; `Retry-After` says when to try again.",
}

# Said of every upload operation.
UPLOAD_LIMITS = (
    "Every file of the request, refused ones too, and its bytes count against the uploader's limits "
    "(`UPLOADS_PER_USER` files, `UPLOAD_MEGABYTES_PER_USER` MB): 429 with `Retry-After` past them, and 413 "
    "`over_upload_limit` for a request that carries more than a whole window lets through."
)


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict, required: list[str] | None = None) -> dict:
    """An object of an answer: these fields (all required unless `required` names some) and no other."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


def merged(*objects: dict) -> dict:
    """One answer object with the fields of each of `objects` (themselves made by `obj`)."""
    properties: dict = {}
    required: list[str] = []
    for part in objects:
        properties |= part["properties"]
        required += [name for name in part["required"] if name not in required]
    return obj(properties, required)


def body_object(properties: dict, required: list[str] | None = None) -> dict:
    """A request's JSON object: these fields, the `required` ones required."""
    schema = {"type": "object", "properties": properties}
    return schema | {"required": required} if required else schema


def json_answer(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def errors(*statuses: int) -> dict:
    """Error answers of an operation, all in the `Error` shape; 401 and 429 come with every one."""
    answered = sorted({401, 429, *statuses})
    return {str(status): json_answer(ref("Error"), ERRORS[status]) for status in answered}


def path_id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": UUID}


def paging(default_per_page: int = 50) -> list[dict]:
    """The query parameters that choose a page of a listing."""
    return [
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}},
        {
            "name": "per_page",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": default_per_page},
        },
    ]


def listing(summary: str, name: str, schema: str, description: str, *statuses: int) -> dict:
    """An operation that answers every item at once, as `{name: [schema, ...]}`."""
    return {
        "summary": summary,
        "responses": {
            "200": json_answer(obj({name: {"type": "array", "items": ref(schema)}}), description),
            **errors(*statuses),
        },
    }


def paged(name: str, item: dict, count: str = "total") -> dict:
    """One page of a listing: its items under `name`, the page, its size, and `count` (the items of
    every page, or the pages)."""
    return obj({name: {"type": "array", "items": item}, "page": INTEGER, "per_page": INTEGER, count: INTEGER})


def photo_filters() -> list[dict]:
    """The filters of a listing of photos; each may be repeated, and a photo passes with any value given."""
    filters = {
        "verdict": ("Keep photos with this verdict (moderation status).", ModerationStatus),
        "state": ("Keep photos in this processing state.", SessionStatus),
    }
    return [
        {
            "name": name,
            "in": "query",
            "description": description,
            "style": "form",
            "explode": True,
            "schema": {
                "type": "array",
                "items": {"type": "string", "enum": [choice.value for choice in choices]},
            },
        }
        for name, (description, choices) in filters.items()
    ] + [
        {
            "name": "filename",
            "in": "query",
            "description": "Keep photos whose original filename contains this text, in any case (`%` and `_` "
            "are themselves, not wildcards); surrounding spaces are dropped.",
            "schema": {
                "type": "string",
                "maxLength": MAX_FILENAME_SEARCH,
                "pattern": "^[^\\x00-\\x1f\\x7f-\\x9f]*$",
            },
        }
    ]


def multipart(properties: dict, required: list[str]) -> dict:
    media = {"schema": {"type": "object", "properties": properties, "required": required}}
    return {"required": True, "content": {"multipart/form-data": media}}


def json_body(schema: dict, required: bool = True) -> dict:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


PROVIDER = {
    "type": "string",
    "enum": list(PROVIDERS),
    "description": "Moderation provider (default: the server's).",
}
CALLBACK_URL = {"type": "string", "format": "uri", "maxLength": MAX_URL_LENGTH}
JOB_URL = {
    "type": "string",
    "format": "uri",
    "description": "Where the job is answered: `GET /api/bulk-nsfw/jobs/{job_id}`.",
}
QUEUED_JOB = obj({"job_id": UUID, "url": JOB_URL, "status": {"type": "string"}, "total": {"type": "integer"}})
ERROR = obj({"error": obj({"code": {"type": "string"}, "message": {"type": "string"}})})
