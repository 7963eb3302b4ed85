"""HTTP below the routes: errors as JSON, bounded request bodies, ``?now=``, and the guard middleware.

Every error is answered as ``{"error": {"message", "where", "kind", "hint"}}``: an ``ApiError``
raised by the server itself, or a ``SegwiseError`` from the engine mapped to its status by
``status_for`` (400 unreadable, 422 invalid, 502/504 warehouse).
"""

from __future__ import annotations

import hmac
import json
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import CatalogError, SegwiseError, SpecError, UnsupportedError, WarehouseError
from .settings import ARROW_STREAM


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


def error_kind(exc: SegwiseError) -> str:
    """The ``kind`` of an engine error in the JSON answer: spec, catalog, unsupported, warehouse."""
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
    """The JSON error answer."""
    body = {"error": {"message": message, "where": where, "kind": kind, "hint": hint}}
    return JSONResponse(body, status_code=status, headers=headers)


def api_error_response(exc: ApiError) -> JSONResponse:
    """The answer to an ``ApiError``, with the headers its status calls for."""
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    if exc.status == 503:
        headers = {"Retry-After": "1"}
    return error_response(exc.status, exc.message, exc.where, exc.kind, exc.hint, headers=headers)


def wants_arrow(request: Request) -> bool:
    """Whether the client asked for an Arrow IPC stream (``Accept``)."""
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
    """``?now=`` as a datetime, else the server's default."""
    if value is None or value == "":
        return default
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ApiError(400, f"now={value!r} is not an ISO 8601 date or time", where="now") from None


class Guard:
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
                await api_error_response(error)(scope, receive, self._secure(send))
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
