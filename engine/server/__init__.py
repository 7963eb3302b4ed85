"""``segwise serve``: the HTTP API and the explorer page (see docs/explorer.md).

    >>> from segwise.server import create_app, ServerSettings          # doctest: +SKIP
    >>> app = create_app(segwise.Project.load("segwise.yaml"), ServerSettings(token="s3cret"))
    >>> uvicorn.run(app, host="127.0.0.1", port=8765)

Every request is answered by the same public functions as the command line (``segwise.run``,
``compile_query``); this package only adds HTTP: reading bounded JSON bodies, authorisation, a bound
on concurrent warehouse queries with a per-query timeout, and errors as JSON
``{"error": {"message", "where", "kind", "hint"}}`` — the CLI's messages, never a traceback.

Its modules, from the bottom up:

- ``settings``: ``ServerSettings`` and the fixed names (default host and port, the Arrow media type).
- ``http``: errors as JSON, reading bounded bodies and ``?now=``, the bearer-token guard middleware.
- ``runner``: ``QueryRunner``, the bounded thread pool that runs blocking warehouse calls with a
  deadline and drops the queued calls of clients that went away.
- ``catalog``: what /api/catalog and /api/examples answer.
- ``openapi``: the OpenAPI document (responses, component schemas).
- ``app``: ``create_app`` (the routes) and ``serve``.

None of them imports ``segwise.cli``; results and SQL are shaped by ``segwise.output``.
"""

from __future__ import annotations

from ..output import arrow_stream, records
from .app import create_app, explain_payload, serve
from .catalog import OPERATORS_BY_TYPE, CatalogView, build_catalog, gallery_examples, property_listing, sample_values
from .http import ApiError, error_response, parse_now, read_json_object, status_for, wants_arrow
from .runner import QueryRunner
from .settings import ARROW_STREAM, DEFAULT_HOST, DEFAULT_PORT, LOOPBACK_HOSTS, WEB_DIR, ServerSettings

__all__ = [
    "ARROW_STREAM",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "LOOPBACK_HOSTS",
    "OPERATORS_BY_TYPE",
    "WEB_DIR",
    "ApiError",
    "CatalogView",
    "QueryRunner",
    "ServerSettings",
    "arrow_stream",
    "build_catalog",
    "create_app",
    "error_response",
    "explain_payload",
    "gallery_examples",
    "parse_now",
    "property_listing",
    "read_json_object",
    "records",
    "sample_values",
    "serve",
    "status_for",
    "wants_arrow",
]
