"""The ASGI application: the explorer page, its assets and the API routes; ``serve`` runs it.

Each route reads its request (``http``), hands the warehouse work to the runner (``runner``) and
answers with the same public functions as the command line (``segwise.run``, ``compile_query``).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from ..cache import Lookup
from ..dispatch import cache_state
from ..errors import SegwiseError
from ..explain import Explanation
from ..output import arrow_stream, pretty_sql, records
from ..present import paste_statement
from ..registry import get_flavor
from ..span import query_warnings, range_warnings
from .catalog import CatalogView, build_catalog, gallery_examples
from .http import (
    ApiError,
    Guard,
    api_error_response,
    error_kind,
    error_response,
    parse_now,
    read_json_object,
    status_for,
    wants_arrow,
)
from .openapi import install_openapi, query_operation, route_responses
from .runner import QueryRunner
from .settings import ARROW_STREAM, DEFAULT_HOST, DEFAULT_PORT, LOOPBACK_HOSTS, WEB_DIR, ServerSettings

if TYPE_CHECKING:
    from ..compiled import CompiledQuery
    from ..query import Query
    from ..session import Project


def cache_headers(project: Project, lookup: Lookup) -> dict[str, str]:
    """``X-Segwise-Cache``: what the result cache did (hit, miss, uncacheable, off); with the cache
    in use, its hits and misses so far (``X-Segwise-Cache-Hits``, ``X-Segwise-Cache-Misses``)."""
    headers: dict[str, str] = {"X-Segwise-Cache": lookup.status}
    if lookup.status != "off":
        stats = project.result_cache().stats()
        headers["X-Segwise-Cache-Hits"] = str(stats["hits"])
        headers["X-Segwise-Cache-Misses"] = str(stats["misses"])
    return headers


def explain_payload(project: Project, compiled: CompiledQuery) -> dict[str, Any]:
    """What /api/explain answers: the same Explanation ``segwise explain`` prints, as JSON."""
    return Explanation.of(project, compiled).to_json()


def create_app(project: Project, settings: ServerSettings | None = None) -> FastAPI:
    """The ASGI application serving the explorer page and the API for ``project``."""
    from .. import execute, pipeline
    from ..query import Query

    settings = settings or ServerSettings()
    runner = QueryRunner(settings.max_concurrent_queries, settings.max_waiting, settings.query_timeout_s)
    catalog_view = CatalogView()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        runner.close()

    app = FastAPI(
        lifespan=lifespan,
        title="segwise",
        version=_version(),
        summary="Warehouse-native user segmentation: ask a question, get the answer computed in the warehouse.",
        docs_url=None,  # the interactive docs pages load scripts from a CDN; the explorer is at /
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.project = project
    app.state.settings = settings
    app.state.runner = runner
    if settings.allowed_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(settings.allowed_hosts))

    app.add_middleware(Guard, token=settings.token)

    @app.exception_handler(ApiError)
    async def _on_api_error(request: Request, exc: ApiError) -> JSONResponse:
        return api_error_response(exc)

    @app.exception_handler(SegwiseError)
    async def _on_segwise_error(request: Request, exc: SegwiseError) -> JSONResponse:
        return error_response(status_for(exc), exc.message, exc.where, error_kind(exc), exc.hint)

    @app.exception_handler(RequestValidationError)
    async def _on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = " > ".join(str(p) for p in first.get("loc", ())) or None
        return error_response(400, str(first.get("msg", "invalid request")), where)

    @app.exception_handler(StarletteHTTPException)
    async def _on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(
            exc.status_code, str(exc.detail), request.url.path, headers=dict(exc.headers) if exc.headers else None
        )

    @app.exception_handler(Exception)
    async def _on_crash(request: Request, exc: Exception) -> JSONResponse:
        return error_response(
            500,
            f"internal error ({type(exc).__name__}). This is a bug in segwise; the server log has details.",
            kind="internal",
        )

    def parse_query(data: dict[str, Any]) -> Query:
        return Query.parse(data)

    def options(now: datetime | None) -> dict[str, Any]:
        return {"now": now, "timeout": settings.query_timeout_s, "cache": settings.cache}

    # -- page and assets ---------------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(
            WEB_DIR / "index.html",
            headers={
                "Cache-Control": "no-cache",
                "Content-Security-Policy": (
                    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                    "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
                ),
            },
        )

    app.mount("/assets", StaticFiles(directory=WEB_DIR), name="assets")

    # -- API ---------------------------------------------------------------------------------------

    @app.get(
        "/api/catalog",
        summary="Events with counts, properties with types and sample values",
        responses=route_responses(200, 401, 502, 503, 504, ok_schema={"$ref": "#/components/schemas/Catalog"}),
    )
    async def catalog(request: Request) -> JSONResponse:
        def compute() -> dict[str, Any]:
            with catalog_view.lock:
                if catalog_view.payload is None:
                    catalog_view.payload = build_catalog(project, settings)
                return catalog_view.payload

        payload = catalog_view.payload or await runner.call(compute, request)
        return JSONResponse(payload, headers={"Cache-Control": "private, max-age=60"})

    @app.post(
        "/api/query",
        summary="Answer a query: JSON rows (as `segwise run --format json`) or an Arrow IPC stream",
        openapi_extra=query_operation(arrow=True),
        responses=route_responses(200, 400, 401, 413, 422, 502, 503, 504, arrow=True),
    )
    async def run_query(request: Request, now: str | None = None) -> Response:
        at = parse_now(now, settings.now)
        query = parse_query(await read_json_object(request, settings.max_body_bytes))
        started = time.perf_counter()
        lookup = Lookup()
        table = await runner.call(lambda: execute.answer(query, project, lookup=lookup, **options(at)), request)
        elapsed_ms = (time.perf_counter() - started) * 1000
        headers = {"Server-Timing": f"query;dur={elapsed_ms:.1f}", "X-Segwise-Rows": str(table.num_rows)}
        headers.update(cache_headers(project, lookup))
        warnings = await runner.call(lambda: query_warnings(project, query, now=at), request)
        if warnings:  # the body is the rows (a JSON array or Arrow): warnings travel as a JSON header
            headers["X-Segwise-Warnings"] = json.dumps(warnings, ensure_ascii=True)
        if wants_arrow(request):
            return Response(arrow_stream(table), media_type=ARROW_STREAM, headers=headers)
        return JSONResponse(records(table), headers=headers)

    @app.post(
        "/api/sql",
        summary="The SQL a query compiles to, for the warehouse or a named dialect",
        openapi_extra=query_operation(),
        responses=route_responses(
            200, 400, 401, 413, 422, 502, 503, 504, ok_schema={"$ref": "#/components/schemas/Sql"}
        ),
    )
    async def sql(request: Request, dialect: str | None = None, now: str | None = None) -> JSONResponse:
        at = parse_now(now, settings.now)
        query = parse_query(await read_json_object(request, settings.max_body_bytes))

        if dialect and dialect not in _dialects():
            raise ApiError(
                400, f"unknown SQL dialect {dialect!r}; known: {', '.join(sorted(_dialects()))}", where="dialect"
            )

        def compile_sql() -> dict[str, str]:
            compiled = pipeline.compile_query(project, query, dialect=dialect or None, now=at)
            pasted = paste_statement(compiled, get_flavor(compiled.dialect))
            return {"sql": pretty_sql(pasted, compiled.dialect), "dialect": compiled.dialect}

        return JSONResponse(await runner.call(compile_sql, request))

    @app.post(
        "/api/explain",
        summary="The resolved query (range, buckets, series) and its SQL",
        openapi_extra=query_operation(),
        responses=route_responses(
            200, 400, 401, 413, 422, 502, 503, 504, ok_schema={"$ref": "#/components/schemas/Explain"}
        ),
    )
    async def explain(request: Request, now: str | None = None) -> JSONResponse:
        at = parse_now(now, settings.now)
        query = parse_query(await read_json_object(request, settings.max_body_bytes))

        def compute() -> dict[str, Any]:
            compiled = pipeline.compile_query(project, query, now=at)
            payload = {**explain_payload(project, compiled), "warnings": range_warnings(compiled, project.catalog())}
            return {**payload, "cache": cache_state(project, compiled, settings.cache)}

        return JSONResponse(await runner.call(compute, request))

    @app.get(
        "/api/examples",
        summary="Example questions (the gallery) whose events this project has",
        responses=route_responses(200, 401, 502, 503, 504, ok_schema={"$ref": "#/components/schemas/Examples"}),
    )
    async def examples(request: Request) -> JSONResponse:
        def compute() -> list[dict[str, Any]]:
            return gallery_examples(project)

        return JSONResponse(await runner.call(compute, request))

    install_openapi(app, settings)

    return app


def _dialects() -> list[str]:
    from ..registry import flavor_classes

    return list(flavor_classes())


def _version() -> str:
    from .. import __version__

    return __version__


def serve(
    project: Project,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    settings: ServerSettings | None = None,
    log_level: str = "info",
) -> None:
    """Warm the catalog (so a broken project fails now, not on the first click), then serve."""
    import uvicorn

    settings = settings or ServerSettings()
    if host in LOOPBACK_HOSTS and settings.allowed_hosts is None:
        # A page on another site could reach a localhost server through DNS rebinding; only
        # requests addressed to a loopback name are answered.
        settings = replace(settings, allowed_hosts=("127.0.0.1", "localhost", "[::1]", "::1"))
    project.catalog().event_names()
    app = create_app(project, settings)
    uvicorn.run(app, host=host, port=port, log_level=log_level, server_header=False)
