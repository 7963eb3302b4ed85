"""The server's settings and fixed names: ports, hosts, the Arrow media type, the page's folder."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
ARROW_STREAM = "application/vnd.apache.arrow.stream"
WEB_DIR = Path(__file__).resolve().parent.parent / "web"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


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
    cache: bool = True  # the result cache (segwise.cache), unless the project says cache: false (--no-cache: off)
