"""``segwise serve``: the HTTP API and the explorer page (see docs/explorer.md).

    >>> from segwise.server import create_app, ServerSettings          # doctest: +SKIP
    >>> app = create_app(segwise.Project.load("segwise.yaml"), ServerSettings(token="s3cret"))
    >>> uvicorn.run(app, host="127.0.0.1", port=8765)

Every request is answered by the same public functions as the command line (``segwise.run``,
``compile_query``); this module only adds HTTP: reading bounded JSON bodies, authorisation, a bound
on concurrent warehouse queries with a per-query timeout, and errors as JSON
``{"error": {"message", "where", "kind", "hint"}}`` — the CLI's messages, never a traceback.

Warehouse work is blocking, so it runs in a small thread pool whose size *is* the bound on
concurrent warehouse queries; requests beyond it wait in the pool's queue (a request that is
still queued when it times out or its client goes away is dropped before it reaches the warehouse).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import math
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pyarrow as pa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlglot import exp
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import CatalogError, SegwiseError, SpecError, UnsupportedError, WarehouseError
from .span import query_warnings, range_warnings

if TYPE_CHECKING:
    from .catalog import Catalog
    from .compile import CompiledQuery
    from .project import Project
    from .query import Query

T = TypeVar("T")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
ARROW_STREAM = "application/vnd.apache.arrow.stream"
WEB_DIR = Path(__file__).resolve().parent / "web"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")

#: Operators that make sense for each property type (the page offers these; the engine checks).
OPERATORS_BY_TYPE: dict[str, list[str]] = {
    "string": [
        "eq",
        "neq",
        "in",
        "not_in",
        "contains",
        "not_contains",
        "starts_with",
        "gt",
        "gte",
        "lt",
        "lte",
        "is_null",
        "is_not_null",
    ],
    "integer": ["eq", "neq", "gt", "gte", "lt", "lte", "between", "in", "not_in", "is_null", "is_not_null"],
    "float": ["eq", "neq", "gt", "gte", "lt", "lte", "between", "in", "not_in", "is_null", "is_not_null"],
    "boolean": ["eq", "neq", "is_null", "is_not_null"],
    "date": ["eq", "neq", "gt", "gte", "lt", "lte", "between", "is_null", "is_not_null"],
    "timestamp": ["gt", "gte", "lt", "lte", "between", "eq", "neq", "is_null", "is_not_null"],
    "timestamptz": ["gt", "gte", "lt", "lte", "between", "eq", "neq", "is_null", "is_not_null"],
    "other": ["is_null", "is_not_null"],
}
NUMERIC_TYPES = ("integer", "float")


@dataclass(frozen=True)
class ServerSettings:
    """Limits and options of one server; the defaults suit a laptop and a local warehouse."""

    token: str | None = None  # require ``Authorization: Bearer <token>`` on /api/*
    max_body_bytes: int = 256 * 1024  # larger request bodies get 413
    query_timeout_s: float = 60.0  # per warehouse call, queueing included; then 504
    max_concurrent_queries: int = 4  # warehouse calls at once (the thread pool's size)
    max_waiting: int = 256  # calls queued beyond that; more get 503
    now: datetime | None = None  # "now" for relative ranges unless a request gives ?now=
    sample_values: int = 12  # sample values per property in /api/catalog
    sample_rows: int = 50_000  # rows read (at most) to find them: one small query per property
    max_sampled_properties: int = 200
    allowed_hosts: tuple[str, ...] | None = None  # Host header check (DNS rebinding) when bound to loopback


class ApiError(Exception):
    """An error answered as ``{"error": {...}}`` with an HTTP status."""

    def __init__(
        self, status: int, message: str, where: str | None = None, kind: str = "request", hint: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.where = where
        self.kind = kind
        self.hint = hint


def status_for(exc: SegwiseError) -> int:
    """400 for a request that cannot be read, 422 for a query that is invalid, 502/504 for the warehouse."""
    if isinstance(exc, WarehouseError):
        text = f"{exc.message} {exc.sqlstate or ''}".lower()
        timed_out = (
            exc.sqlstate == "57014"  # query_canceled: what segwise.run(timeout=) raises when it stops a statement
            or "timeout" in type(exc).__name__.lower()
            or "timed out" in text
        )
        return 504 if timed_out else 502
    if isinstance(exc, (SpecError, CatalogError, UnsupportedError)):
        return 422
    return 400


def _kind(exc: SegwiseError) -> str:
    for cls, name in (
        (SpecError, "spec"),
        (CatalogError, "catalog"),
        (UnsupportedError, "unsupported"),
        (WarehouseError, "warehouse"),
    ):
        if isinstance(exc, cls):
            return name
    return "error"


def error_response(
    status: int,
    message: str,
    where: str | None = None,
    kind: str = "request",
    hint: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"message": message, "where": where, "kind": kind, "hint": hint}}
    return JSONResponse(body, status_code=status, headers=headers)


# -- the warehouse runner ---------------------------------------------------------------------------


class QueryRunner:
    """Blocking warehouse calls in a bounded thread pool, each with a deadline.

    The pool's size bounds concurrent warehouse queries. A call that is still queued when its
    deadline passes (or its client disconnects) is cancelled before it starts; one that is
    already running is asked to stop through ``segwise.run(..., timeout=)`` where the engine
    supports it, and otherwise finishes in the background while the client gets its 504.
    """

    def __init__(self, max_concurrent: int, max_waiting: int, timeout_s: float) -> None:
        self.max_concurrent = max(1, max_concurrent)
        self.max_waiting = max(0, max_waiting)
        self.timeout_s = timeout_s
        self._pool: ThreadPoolExecutor | None = None  # opened on first use, again after close()
        self._lock = threading.Lock()
        self._pending = 0
        self._running = 0
        self.peak_running = 0  # the most calls seen running at once (tests check the bound)
        self.cancelled = 0  # calls abandoned because the client went away
        self.timed_out = 0

    @property
    def pending(self) -> int:
        return self._pending

    def _wrap(self, fn: Callable[[], T]) -> Callable[[], T]:
        def call() -> T:
            with self._lock:
                self._running += 1
                self.peak_running = max(self.peak_running, self._running)
            try:
                return fn()
            finally:
                with self._lock:
                    self._running -= 1

        return call

    def _done(self, _: Future[Any]) -> None:
        with self._lock:
            self._pending -= 1

    async def call(self, fn: Callable[[], T], request: Request | None = None) -> T:
        with self._lock:
            if self._pending >= self.max_concurrent + self.max_waiting:
                raise ApiError(
                    503,
                    f"the server is busy: {self._pending} warehouse queries are running or waiting; retry shortly",
                    kind="busy",
                )
            self._pending += 1
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.max_concurrent, thread_name_prefix="segwise-query")
            pool = self._pool
        future = pool.submit(self._wrap(fn))
        future.add_done_callback(self._done)
        waiter = asyncio.wrap_future(future)
        watcher = asyncio.ensure_future(_disconnected(request)) if request is not None else None
        try:
            done, _ = await asyncio.wait(
                [waiter] + ([watcher] if watcher else []),
                timeout=self.timeout_s,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if waiter in done:
                return waiter.result()
            future.cancel()  # a call still in the queue never reaches the warehouse
            if watcher is not None and watcher in done:
                self.cancelled += 1
                raise ApiError(499, "the client went away; the query was cancelled", kind="cancelled")
            self.timed_out += 1
            raise ApiError(
                504,
                f"the query did not finish within {self.timeout_s:g} s and was abandoned",
                kind="timeout",
                hint="narrow the date range, use a coarser time grain, or raise the server's --timeout",
            )
        finally:
            if watcher is not None:
                watcher.cancel()
            if not waiter.done():
                waiter.cancel()

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


async def _disconnected(request: Request) -> None:
    """Return once the client has gone away (the page's Cancel button aborts its fetch)."""
    while not await request.is_disconnected():
        await asyncio.sleep(0.2)


# -- catalog -------------------------------------------------------------------------------------


@dataclass
class CatalogView:
    """What /api/catalog answers, computed once (event counts and sample values are cached)."""

    payload: dict[str, Any] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def property_listing(catalog: Catalog) -> list[dict[str, Any]]:
    """Event properties, then user properties (``user.x`` where an event property shares the name)."""
    event_props = catalog.event_properties()
    listing: list[dict[str, Any]] = []
    for name, col in event_props.items():
        table = next(i for i, t in enumerate(catalog.event_tables) if name in t.properties)
        listing.append({"name": name, "source": "event", "type": col.kind, "_table": ("event", table, name)})
    for name, (index, col) in catalog.user_properties().items():
        shown = f"user.{name}" if name in event_props else name
        listing.append({"name": shown, "source": "user", "type": col.kind, "_table": ("user", index, name)})
    return listing


def sample_values(catalog: Catalog, where: tuple[str, int, str], rows: int, limit: int) -> list[Any]:
    """The most frequent values of a column among (at most) its table's first ``rows`` rows.

    One small query per property: ``SELECT v, COUNT(*) FROM (SELECT col AS v FROM t LIMIT rows)
    WHERE v IS NOT NULL GROUP BY v ORDER BY COUNT(*) DESC, v LIMIT limit``.
    """
    source, index, column = where
    info = catalog.event_tables[index] if source == "event" else catalog.user_tables[index]
    adapter = catalog.adapter
    assert adapter is not None
    inner = exp.select(exp.column(column, quoted=True).as_("v", quoted=True)).from_(info.ref.expression()).limit(rows)
    value = exp.column("v", table="s", quoted=True)
    count = exp.Count(this=exp.Star())
    query = (
        exp.select(value.as_("v", quoted=True), count.as_("n", quoted=True))
        .from_(inner.subquery("s", copy=False))
        .where(exp.Not(this=exp.Is(this=value.copy(), expression=exp.Null())))
        .group_by(value.copy())
        .order_by(exp.Ordered(this=count.copy(), desc=True), exp.Ordered(this=value.copy()))
        .limit(limit)
    )
    from .observe import execute_observed

    # Through the same choke point as every query: guard, retries, the query hook.
    table = execute_observed(adapter, adapter.render(query), expression=query, tables=[info.ref])
    return [_json_value(v) for v in table.column(0).to_pylist()]


def build_catalog(project: Project, settings: ServerSettings) -> dict[str, Any]:
    from .registry import flavor_classes, measure_definitions

    catalog = project.catalog()
    events = [{"name": name, "count": count} for name, count in catalog.event_names().items()]
    properties = property_listing(catalog)
    for index, prop in enumerate(properties):
        where = prop.pop("_table")
        if index >= settings.max_sampled_properties or prop["type"] == "other":
            prop["samples"] = []
            continue
        try:
            prop["samples"] = sample_values(catalog, where, settings.sample_rows, settings.sample_values)
        except SegwiseError:  # samples are a convenience; a column the warehouse cannot group is still usable
            prop["samples"] = []
    adapter = project.adapter()
    return {
        "project": {
            "dialect": adapter.name,
            "timezone": project.timezone,
            "week_start": project.week_start,
            "now": settings.now.isoformat() if settings.now else None,
        },
        "events": events,
        "properties": properties,
        "operators": OPERATORS_BY_TYPE,
        "measures": {
            "counts": ["events", "unique_users", "dau", "wau", "mau"],
            "numbers": ["events_per_user"],
            "of_property": ["sum", "avg", "min", "max", "median", "p90", "p99"],
            "plugins": sorted(measure_definitions()),
        },
        "dialects": sorted(flavor_classes()),
    }


def gallery_examples(project: Project) -> list[dict[str, Any]]:
    """The example gallery (``examples/*.yaml`` of a source checkout) limited to events the project has."""
    from .demo.gallery import gallery
    from .loading import load_mapping

    try:
        items = gallery()
    except SegwiseError:
        return []  # an installed wheel has no gallery
    known = set(project.catalog().event_names()) | {"any"}
    out = []
    for question, path in items:
        data = json.loads(json.dumps(load_mapping(path, what="query"), default=_json_value))
        events = {s["event"] for s in data.get("series", []) if isinstance(s, dict) and isinstance(s.get("event"), str)}
        if events <= known:
            out.append({"name": path.stem, "question": question, "query": data})
    return out


# -- helpers ---------------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def records(table: pa.Table) -> list[dict[str, Any]]:
    """The rows as ``--format json`` prints them (ISO 8601 timestamps), with NaN as null."""
    from .cli import to_records

    rows = to_records(table)
    for row in rows:
        for key, value in row.items():
            if isinstance(value, float) and not math.isfinite(value):
                row[key] = None
    return rows


def arrow_stream(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def wants_arrow(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return any(part.split(";")[0].strip().lower() == ARROW_STREAM for part in accept.split(","))


async def read_json_object(request: Request, limit: int) -> dict[str, Any]:
    """The body as a JSON object, reading at most ``limit`` bytes (413 beyond)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise ApiError(413, f"the request body is larger than {limit:,} bytes", where="body")
        except ValueError:
            raise ApiError(400, "Content-Length is not a number", where="headers") from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"the request body is larger than {limit:,} bytes", where="body")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise ApiError(400, "the request body is empty; send a query object as JSON", where="body")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f"body:{exc.lineno}:{exc.colno}" if isinstance(exc, json.JSONDecodeError) else "body"
        raise ApiError(400, f"the body is not valid JSON: {exc}", where=where) from None
    if not isinstance(data, dict):
        raise ApiError(400, f"the body must be a JSON object (a query), not {type(data).__name__}", where="body")
    return data


def parse_now(value: str | None, default: datetime | None) -> datetime | None:
    if value is None or value == "":
        return default
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ApiError(400, f"now={value!r} is not an ISO 8601 date or time", where="now") from None


def explain_payload(project: Project, compiled: CompiledQuery) -> dict[str, Any]:
    from .cli import pretty_sql

    query = compiled.query
    tf = compiled.timeframe
    series = []
    for output in compiled.outputs:  # previous-period twins included
        spec = compiled.series_of(output)
        event = spec.event if isinstance(spec.event, str) else {"any_of": [m.event for m in spec.event.any_of]}
        series.append(
            {"label": output.label, "event": event, "measure": str(output.measure), "filters": len(spec.where)}
        )
    return {
        "dialect": compiled.dialect,
        "timezone": tf.timezone,
        "week_start": project.week_start,
        "range": {
            "from": tf.start.isoformat(),
            "to": tf.end.isoformat(),
            "from_utc": tf.start_utc.isoformat(),
            "to_utc": tf.end_utc.isoformat(),
        },
        "time_grain": tf.grain,
        "buckets": len(tf.buckets),
        "series": series,
        "breakdown": list(query.breakdown),
        "breakdown_limit": query.breakdown_limit,
        "plan": compiled.plan.describe() if compiled.plan is not None else [],
        "decisions": list(compiled.decisions),
        "alternatives": [
            {"name": a.name, "rows": a.rows, "bytes": a.bytes, "seconds": a.seconds, "chosen": a.chosen, "note": a.note}
            for a in (compiled.plan.alternatives if compiled.plan is not None else [])
        ],
        "sql": pretty_sql(compiled.expression, compiled.dialect),
    }


# -- the application -------------------------------------------------------------------------------


def create_app(project: Project, settings: ServerSettings | None = None) -> FastAPI:
    """The ASGI application serving the explorer page and the API for ``project``."""
    from . import execute
    from .query import Query

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

    app.add_middleware(_Guard, token=settings.token)

    @app.exception_handler(ApiError)
    async def _on_api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _api_error(exc)

    @app.exception_handler(SegwiseError)
    async def _on_segwise_error(request: Request, exc: SegwiseError) -> JSONResponse:
        return error_response(status_for(exc), _message(exc), exc.where, _kind(exc), exc.hint)

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
        return {"now": now, "timeout": settings.query_timeout_s}

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
        responses=_responses(200, 401, 502, 503, 504, ok_schema={"$ref": "#/components/schemas/Catalog"}),
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
        openapi_extra=_query_operation(arrow=True),
        responses=_responses(200, 400, 401, 413, 422, 502, 503, 504, arrow=True),
    )
    async def run_query(request: Request, now: str | None = None) -> Response:
        at = parse_now(now, settings.now)
        query = parse_query(await read_json_object(request, settings.max_body_bytes))
        started = time.perf_counter()
        table = await runner.call(lambda: execute.run(query, project, **options(at)), request)
        elapsed_ms = (time.perf_counter() - started) * 1000
        headers = {"Server-Timing": f"query;dur={elapsed_ms:.1f}", "X-Segwise-Rows": str(table.num_rows)}
        warnings = await runner.call(lambda: query_warnings(project, query, now=at), request)
        if warnings:  # the body is the rows (a JSON array or Arrow): warnings travel as a JSON header
            headers["X-Segwise-Warnings"] = json.dumps(warnings, ensure_ascii=True)
        if wants_arrow(request):
            return Response(arrow_stream(table), media_type=ARROW_STREAM, headers=headers)
        return JSONResponse(records(table), headers=headers)

    @app.post(
        "/api/sql",
        summary="The SQL a query compiles to, for the warehouse or a named dialect",
        openapi_extra=_query_operation(),
        responses=_responses(200, 400, 401, 413, 422, 502, 503, 504, ok_schema={"$ref": "#/components/schemas/Sql"}),
    )
    async def sql(request: Request, dialect: str | None = None, now: str | None = None) -> JSONResponse:
        from .cli import pretty_sql

        at = parse_now(now, settings.now)
        query = parse_query(await read_json_object(request, settings.max_body_bytes))

        if dialect and dialect not in _dialects():
            raise ApiError(
                400, f"unknown SQL dialect {dialect!r}; known: {', '.join(sorted(_dialects()))}", where="dialect"
            )

        def compile_sql() -> dict[str, str]:
            compiled = execute.compile_query(project, query, dialect=dialect or None, now=at)
            return {"sql": pretty_sql(compiled.expression, compiled.dialect), "dialect": compiled.dialect}

        return JSONResponse(await runner.call(compile_sql, request))

    @app.post(
        "/api/explain",
        summary="The resolved query (range, buckets, series) and its SQL",
        openapi_extra=_query_operation(),
        responses=_responses(
            200, 400, 401, 413, 422, 502, 503, 504, ok_schema={"$ref": "#/components/schemas/Explain"}
        ),
    )
    async def explain(request: Request, now: str | None = None) -> JSONResponse:
        at = parse_now(now, settings.now)
        query = parse_query(await read_json_object(request, settings.max_body_bytes))

        def compute() -> dict[str, Any]:
            compiled = execute.compile_query(project, query, now=at)
            return {**explain_payload(project, compiled), "warnings": range_warnings(compiled, project.catalog())}

        return JSONResponse(await runner.call(compute, request))

    @app.get(
        "/api/examples",
        summary="Example questions (the gallery) whose events this project has",
        responses=_responses(200, 401, 502, 503, 504, ok_schema={"$ref": "#/components/schemas/Examples"}),
    )
    async def examples(request: Request) -> JSONResponse:
        def compute() -> list[dict[str, Any]]:
            return gallery_examples(project)

        return JSONResponse(await runner.call(compute, request))

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            schema = get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=app.routes, description=_DESCRIPTION
            )
            schema.setdefault("components", {}).setdefault("schemas", {}).update(_component_schemas())
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

    return app


class _Guard:
    """Pure ASGI middleware: the bearer token on /api/*, and safe headers on every response.

    (Not ``BaseHTTPMiddleware``: that wraps the request's receive channel, and the API needs to
    notice a client going away to drop its query.)
    """

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.token is not None and scope["path"].startswith("/api/"):
            header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
            scheme, _, given = header.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self.token.encode()):
                error = ApiError(
                    401,
                    "missing or wrong bearer token (send Authorization: Bearer <token>)",
                    where="Authorization",
                    kind="auth",
                )
                await _api_error(error)(scope, receive, self._secure(send))
                return
        await self.app(scope, receive, self._secure(send))

    @staticmethod
    def _secure(send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("X-Frame-Options", "DENY")
            await send(message)

        return wrapped


def _api_error(exc: ApiError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    if exc.status == 503:
        headers = {"Retry-After": "1"}
    return error_response(exc.status, exc.message, exc.where, exc.kind, exc.hint, headers=headers)


def _dialects() -> list[str]:
    from .registry import flavor_classes

    return list(flavor_classes())


def _message(exc: SegwiseError) -> str:
    return exc.message


def _version() -> str:
    from . import __version__

    return __version__


# -- OpenAPI pieces --------------------------------------------------------------------------------

_DESCRIPTION = """\
The segwise HTTP API: the same questions as `segwise run`, over HTTP. A query is the JSON form of a
query file (docs/queries.md). Errors are `{"error": {"message", "where", "kind", "hint"}}`: 400 when
the request cannot be read, 413 when it is too large, 422 when the query is invalid (unknown event
or property, bad operator or value), 502 when the warehouse fails, 503 when too many queries are
waiting, 504 when a query runs out of time. `now` (ISO 8601) fixes the end of relative date ranges.
"""

_STATUS_TEXT = {
    200: "OK",
    400: "The request cannot be read (not JSON, not an object, a bad parameter)",
    401: "Missing or wrong bearer token",
    413: "The request body is too large",
    422: "The query is invalid: bad field, unknown event or property, unsupported by the dialect",
    502: "The warehouse failed",
    503: "Too many queries are running or waiting",
    504: "The query ran out of time",
}


def _responses(*codes: int, ok_schema: dict[str, Any] | None = None, arrow: bool = False) -> dict[int | str, Any]:
    out: dict[int | str, Any] = {}
    for code in codes:
        if code == 200:
            content: dict[str, Any] = {
                "application/json": {"schema": ok_schema or {"$ref": "#/components/schemas/Rows"}}
            }
            if arrow:
                content[ARROW_STREAM] = {"schema": {"type": "string", "format": "binary"}}
            out[code] = {"description": _STATUS_TEXT[200], "content": content}
        else:
            out[code] = {
                "description": _STATUS_TEXT[code],
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
    return out


def _query_operation(arrow: bool = False) -> dict[str, Any]:
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


def _component_schemas() -> dict[str, Any]:
    from .query import Query

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
            "warnings": {
                "type": "array",
                "items": {"type": "string"},
                "description": "e.g. the range holds no events of a table that has events elsewhere (its span)",
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
        },
    }
    return schemas


# -- running ---------------------------------------------------------------------------------------


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
        settings = _replace(settings, allowed_hosts=("127.0.0.1", "localhost", "[::1]", "::1"))
    project.catalog().event_names()
    app = create_app(project, settings)
    uvicorn.run(app, host=host, port=port, log_level=log_level, server_header=False)


def _replace(settings: ServerSettings, **changes: Any) -> ServerSettings:
    from dataclasses import replace

    return replace(settings, **changes)
