"""Shared pieces of the explorer tests: the demo database, a live server, gallery queries, the oracle.

The demo data is small (300 users over the demo's 180 days, ~18k events) so that the oracle
answers every gallery question in a few seconds; "now" is the end of the demo data, as in
``segwise demo``.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

import segwise
from segwise.demo.gallery import analysis_examples, gallery
from segwise.demo.generate import DEFAULT_START, generate_tables, write_duckdb
from segwise.server import ServerSettings, create_app
from tests.oracle import oracle
from tests.oracle_funnel import funnel_oracle
from tests.oracle_lifecycle import lifecycle_oracle
from tests.oracle_retention import retention_oracle
from tests.oracle_stickiness import stickiness_oracle
from tests.oracle_units import unit_reader

USERS = 300
DAYS = 180
NOW = datetime(2025, 6, 30)
assert (NOW.date() - DEFAULT_START).days == DAYS


# The demo project's units, named cohorts and categories: the gallery's (examples/segwise.yaml).
_GALLERY_PROJECT = yaml.safe_load((Path(__file__).resolve().parents[1] / "examples" / "segwise.yaml").read_text())
UNITS: dict[str, str] = _GALLERY_PROJECT["units"]
COHORTS: dict[str, Any] = _GALLERY_PROJECT["cohorts"]
CATEGORIES: dict[str, Any] = _GALLERY_PROJECT["categories"]


def make_demo(directory: Path) -> Path:
    """Write the demo database and its project file into ``directory``; return the project file."""
    directory.mkdir(parents=True, exist_ok=True)
    write_duckdb(directory / "demo.duckdb", users=USERS, days=DAYS)
    project = directory / "segwise.yaml"
    project.write_text(
        "warehouse: duckdb:///demo.duckdb\n"
        "timezone: UTC\n"
        "event_tables:\n"
        "  - {table: events, user_id: user_id, event_time: event_time, event_name: event_name,\n"
        "     partition: {column: event_date, granularity: day, format: date}}\n"
        "user_tables:\n"
        "  - {table: users, user_id: user_id}\n"
        + yaml.safe_dump({"units": UNITS, "cohorts": COHORTS, "categories": CATEGORIES})
    )
    return project


_TABLES: tuple[pa.Table, pa.Table] | None = None


def demo_tables() -> tuple[pa.Table, pa.Table]:
    """(users, events) exactly as written by ``make_demo`` (same generator, same arguments)."""
    global _TABLES
    if _TABLES is None:
        _TABLES = generate_tables(users=USERS, days=DAYS)
    return _TABLES


def plain(value: Any) -> Any:
    """YAML values as JSON has them (dates as ISO text)."""
    return json.loads(json.dumps(value, default=lambda v: v.isoformat() if isinstance(v, (date, datetime)) else v))


def gallery_queries() -> list[tuple[str, str, dict[str, Any]]]:
    """(file stem, question, query as JSON) for every example of the gallery."""
    return [(path.stem, question, plain(yaml.safe_load(path.read_text()))) for question, path in gallery()]


def menu_queries() -> list[tuple[str, str, dict[str, Any]]]:
    """The explorer's example menu: the gallery, then the funnel and retention examples of its subfolders."""
    extra = [(path.stem, question, plain(yaml.safe_load(path.read_text()))) for question, path in analysis_examples()]
    return gallery_queries() + extra


# The references of the analyses other than a segmentation, by their query key.
ANALYSIS_ORACLES = {
    "lifecycle": lifecycle_oracle,
    "stickiness": stickiness_oracle,
    "funnel": funnel_oracle,
    "retention": retention_oracle,
}


def expected_rows(query: dict[str, Any]) -> list[dict[str, Any]]:
    """The oracle's rows, shaped like the API's JSON (ISO 8601 buckets; the demo project is in UTC);
    the query's ``unit`` read as tests/oracle_units.py reads it."""
    users, events = demo_tables()
    unit_of = unit_reader(query, UNITS, set(events.column_names))
    keys = [key for key in ANALYSIS_ORACLES if key in query]
    if keys:
        rows = ANALYSIS_ORACLES[keys[0]](query, events.to_pylist(), users.to_pylist(), now=NOW, unit_of=unit_of)
    else:
        rows = oracle(query, events, users, now=NOW, cohorts=COHORTS, categories=CATEGORIES, unit_of=unit_of)
    return [{**row, **{k: _iso(row[k]) for k in ("bucket", "cohort") if k in row}} for row in rows]


def _iso(moment: datetime | None) -> str | None:
    """A bucket or cohort start as the API's JSON has it (the demo project is in UTC; a summary
    row's cohort is null)."""
    return None if moment is None else moment.replace(tzinfo=moment.tzinfo or UTC).isoformat()


def same_rows(got: list[dict[str, Any]], want: list[dict[str, Any]], rel: float = 1e-9) -> bool:
    if len(got) != len(want):
        return False
    for g, w in zip(got, want, strict=True):
        if set(g) != set(w):
            return False
        for key, value in w.items():
            other = g[key]
            if isinstance(value, float) and isinstance(other, (int, float)):
                if abs(other - value) > rel * max(1.0, abs(value)):
                    return False
            elif other != value:
                return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """The explorer app under uvicorn in a daemon thread, on a free loopback port."""

    def __init__(self, project: segwise.Project, settings: ServerSettings) -> None:
        import uvicorn

        self.project = project
        self.app = create_app(project, settings)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", backlog=512)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the live server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    @property
    def runner(self) -> Any:
        return self.app.state.runner


@contextmanager
def live_server(project_file: Path, **settings: Any) -> Iterator[LiveServer]:
    project = segwise.Project.load(project_file)
    project.catalog().event_names()
    server = LiveServer(project, ServerSettings(now=NOW, **settings)).start()
    try:
        yield server
    finally:
        server.stop()
        project.close()
