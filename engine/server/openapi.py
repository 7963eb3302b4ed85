"""The OpenAPI document of the API: its description, each route's responses, the component schemas.

The routes (``app.py``) name their responses with ``route_responses(...)`` and their request body with
``query_operation()``; ``install_openapi`` builds the document once, adding the bearer scheme when
the server has a token (and dropping 401 when it has none).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .settings import ARROW_STREAM, ServerSettings

if TYPE_CHECKING:
    from fastapi import FastAPI


DESCRIPTION = """\
The segwise HTTP API: the same questions as `segwise run`, over HTTP. A query is the JSON form of a
query file (docs/queries.md). Errors are `{"error": {"message", "where", "kind", "hint"}}`: 400 when
the request cannot be read, 413 when it is too large, 422 when the query is invalid (unknown event
or property, bad operator or value), 502 when the warehouse fails, 503 when too many queries are
waiting, 504 when a query runs out of time. `now` (ISO 8601) fixes the end of relative date ranges.
"""

STATUS_TEXT = {
    200: "OK",
    400: "The request cannot be read (not JSON, not an object, a bad parameter)",
    401: "Missing or wrong bearer token",
    413: "The request body is too large",
    422: "The query is invalid: bad field, unknown event or property, unsupported by the dialect",
    502: "The warehouse failed",
    503: "Too many queries are running or waiting",
    504: "The query ran out of time",
}


def route_responses(*codes: int, ok_schema: dict[str, Any] | None = None, arrow: bool = False) -> dict[int | str, Any]:
    out: dict[int | str, Any] = {}
    for code in codes:
        if code == 200:
            content: dict[str, Any] = {
                "application/json": {"schema": ok_schema or {"$ref": "#/components/schemas/Rows"}}
            }
            if arrow:
                content[ARROW_STREAM] = {"schema": {"type": "string", "format": "binary"}}
            out[code] = {"description": STATUS_TEXT[200], "content": content}
        else:
            out[code] = {
                "description": STATUS_TEXT[code],
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
    return out


def query_operation(arrow: bool = False) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "requestBody": {
            "required": True,
            "description": "A query: the JSON form of a query file (docs/queries.md).",
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/Query"},
                    "example": {
                        "series": [{"event": "any", "measure": "unique_users", "label": "active users"}],
                        "date_range": {"last": "30d"},
                        "time_grain": "day",
                    },
                }
            },
        }
    }
    return operation


def component_schemas() -> dict[str, Any]:
    from ..query import Query

    query = Query.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
    schemas: dict[str, Any] = dict(query.pop("$defs", {}))
    schemas["Query"] = query
    nullable_text = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    schemas["Error"] = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["message", "where"],
                "properties": {
                    "message": {"type": "string"},
                    "where": nullable_text,
                    "kind": {"type": "string"},
                    "hint": nullable_text,
                },
            }
        },
    }
    schemas["Rows"] = {
        "type": "array",
        "description": "One object per row: bucket (ISO 8601), breakdown columns, series, value.",
        "items": {
            "type": "object",
            "required": ["bucket", "series", "value"],
            "properties": {
                "bucket": {"type": "string"},
                "series": {"type": "string"},
                "value": {"anyOf": [{"type": "number"}, {"type": "null"}]},
            },
            "additionalProperties": {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]},
        },
    }
    schemas["Examples"] = {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["name", "question", "query"],
            "properties": {"name": {"type": "string"}, "question": {"type": "string"}, "query": {"type": "object"}},
        },
    }
    schemas["Sql"] = {
        "type": "object",
        "required": ["sql", "dialect"],
        "properties": {"sql": {"type": "string"}, "dialect": {"type": "string"}},
    }
    schemas["Explain"] = {
        "type": "object",
        "required": ["dialect", "range", "time_grain", "buckets", "series", "sql"],
        "properties": {
            "dialect": {"type": "string"},
            "timezone": {"type": "string"},
            "week_start": {"type": "string"},
            "range": {
                "type": "object",
                "required": ["from", "to", "from_utc", "to_utc"],
                "properties": {k: {"type": "string"} for k in ("from", "to", "from_utc", "to_utc")},
            },
            "time_grain": {"type": "string"},
            "buckets": {"type": "integer"},
            "series": {"type": "array", "items": {"type": "object"}},
            "breakdown": {"type": "array", "items": {"type": "string"}},
            "breakdown_limit": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            "sql": {"type": "string"},
            "rules": {"type": "array", "items": {"type": "string"}},
            "plan_tree": {
                "type": "object",
                "description": "the optimized logical plan as data: nodes, operators, scans",
            },
            "estimate": {"type": "object"},
            "warnings": {
                "type": "array",
                "items": {"type": "string"},
                "description": "e.g. the range holds no events of a table that has events elsewhere (its span)",
            },
            "cache": {
                "type": "object",
                "description": "the result cache: what it would do for this query now (status: off, hit, miss, "
                "uncacheable) and its counts (hits, misses, entries, bytes, max_bytes, evictions, ttl)",
                "required": ["status"],
                "properties": {"status": {"enum": ["off", "hit", "miss", "uncacheable"]}},
            },
        },
    }
    schemas["Catalog"] = {
        "type": "object",
        "required": ["project", "events", "properties", "operators", "measures", "dialects"],
        "properties": {
            "project": {"type": "object"},
            "events": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "count"],
                    "properties": {"name": {"type": "string"}, "count": {"type": "integer"}},
                },
            },
            "properties": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "source", "type", "samples"],
                    "properties": {
                        "name": {"type": "string"},
                        "source": {"enum": ["event", "user"]},
                        "type": {"type": "string"},
                        "samples": {"type": "array"},
                    },
                },
            },
            "operators": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            "measures": {"type": "object"},
            "dialects": {"type": "array", "items": {"type": "string"}},
            "cohorts": {"type": "array", "items": {"type": "string"}},
            "units": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "property"],
                    "properties": {"name": {"type": "string"}, "property": {"type": "string"}},
                },
            },
            "categories": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "labels"],
                    "properties": {
                        "name": {"type": "string"},
                        "labels": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
        },
    }
    return schemas


def install_openapi(app: FastAPI, settings: ServerSettings) -> None:
    """Serve ``app``'s OpenAPI document with this module's descriptions and schemas."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            schema = get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=app.routes, description=DESCRIPTION
            )
            schema.setdefault("components", {}).setdefault("schemas", {}).update(component_schemas())
            if settings.token is not None:
                schema["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
                for path, item in schema["paths"].items():
                    if path.startswith("/api/"):
                        for operation in item.values():
                            operation["security"] = [{"bearer": []}]
            else:
                for item in schema["paths"].values():
                    for operation in item.values():
                        operation.get("responses", {}).pop("401", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
