"""The planner benchmark's settings and queries (the gallery plus ``EXTRA_QUERIES``) and the SQL
helpers its naive and hand-written SQL share (see ``benchmarks/planner.py``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

from segwise.adapters.duckdb import DuckDBAdapter
from segwise.demo.gallery import examples_dir
from segwise.demo.generate import DEFAULT_START, EVENTS_SCHEMA, USERS_SCHEMA

DATA = Path(__file__).parent / "data"
RESULTS = Path(__file__).parent / "results"
DAYS = 365
NOW = datetime.combine(DEFAULT_START + timedelta(days=DAYS), datetime.min.time())  # end of the data
SIZES = {"1m": 10_000, "10m": 100_000, "50m": 500_000}  # users; ~102 events per user-year
LAYOUTS = ("partitioned", "unpartitioned")
VARIANTS = ("naive", "segwise", "hand")
ENGINES = ("duckdb", "postgresql")
DUCKDB_CONFIG = dict(DuckDBAdapter.CONFIG)  # as segwise opens it (the same database instance)
PG_SETTINGS = {"work_mem": "128MB", "jit": "off"}
PARTITION = {"column": "event_date", "granularity": "day", "format": "date"}
EVENT_COLUMNS = set(EVENTS_SCHEMA.names)
USER_COLUMNS = set(USERS_SCHEMA.names) - {"user_id"}
REL_TOL = 1e-9

Execute = Callable[[str], pa.Table]


# -- the queries ---------------------------------------------------------------------------------


EXTRA_QUERIES: dict[str, dict[str, Any]] = {
    "x_rolling_wau_90d": {
        "series": [{"event": "any", "measure": "wau", "label": "WAU"}],
        "date_range": {"last": "90d"},
        "time_grain": "day",
    },
    "x_rolling_mau_90d": {
        "series": [{"event": "any", "measure": "mau", "label": "MAU"}],
        "date_range": {"last": "90d"},
        "time_grain": "day",
    },
    "x_combined_event": {
        "series": [
            {
                "event": {
                    "any_of": [
                        {"event": "purchase", "where": [{"property": "revenue", "op": "gt", "value": 50}]},
                        {"event": "payment", "where": [{"property": "plan", "op": "eq", "value": "yearly"}]},
                    ]
                },
                "measure": "unique_users",
                "label": "big spenders",
            }
        ],
        "date_range": {"last": "90d"},
        "time_grain": "week",
    },
    "x_breakdown_top10": {
        "series": [{"event": "page_view", "measure": "events", "label": "page views"}],
        "date_range": {"last": "90d"},
        "time_grain": "week",
        "breakdown": ["country", "platform"],
        "breakdown_limit": 10,
    },
    "x_seven_day_dau": {
        "series": [{"event": "any", "measure": "unique_users", "label": "active users"}],
        "date_range": {"last": "7d"},
        "time_grain": "day",
    },
}


def gallery_queries() -> dict[str, dict[str, Any]]:
    """The gallery's segmentations (``series``). Its other analyses (lifecycle, stickiness, ...),
    the segmentations over named cohorts or categories and those counting a unit other than users
    (``unit: account``; the benchmark's project declares no units) have no naive generator nor
    hand-written SQL here: the first two are benchmarked on their own (benchmarks/analyses.py,
    benchmarks/cohorts.py)."""
    out = {}
    for path in sorted(examples_dir().glob("*.yaml")):
        if path.name != "segwise.yaml":
            query = yaml.safe_load(path.read_text(encoding="utf-8"))
            if query.get("series") and not _behavioural(query) and query.get("unit", "user") == "user":
                out[path.stem] = query
    return out


def _behavioural(query: dict[str, Any]) -> bool:
    """A query over the project's named cohorts or categories (or thresholds on behaviour)."""
    text = yaml.safe_dump(query)
    return "cohort:" in text or "having:" in text or "categories:" in text or bool(_categories(query))


def _categories(query: dict[str, Any]) -> list[str]:
    project = yaml.safe_load((examples_dir() / "segwise.yaml").read_text(encoding="utf-8"))
    names = set(project.get("categories") or {}) | set(query.get("categories") or {})
    breakdown = query.get("breakdown") or []
    return [b for b in ([breakdown] if isinstance(breakdown, str) else breakdown) if b in names]


def benchmark_queries() -> dict[str, dict[str, Any]]:
    return {**gallery_queries(), **EXTRA_QUERIES}


def date_range(query: dict[str, Any], now: datetime) -> tuple[date, date]:
    """[start, end) as dates; the benchmark's ranges are whole days (``last`` in d or w)."""
    spec = query.get("date_range") or {"last": "30d"}
    if "last" in spec:
        text = str(spec["last"])
        n, unit = int(text[:-1]), text[-1]
        days = {"d": 1, "w": 7}[unit] * n
        return (now - timedelta(days=days)).date(), now.date()
    return date.fromisoformat(str(spec["from"])), date.fromisoformat(str(spec["to"]))


def rolling_days(measure: str) -> int | None:
    if measure in ("dau", "wau", "mau"):
        return {"dau": 1, "wau": 7, "mau": 30}[measure]
    if measure.startswith("active_users:"):
        return int(measure.split(":")[1].rstrip("d"))
    return None


# -- SQL helpers shared by the naive and hand-written SQL (portable DuckDB / PostgreSQL) -----------------


def lit(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def collate(engine: str) -> str:
    """Byte-order text comparison for ranking ties (segwise ranks by code point everywhere)."""
    return ' COLLATE "C"' if engine == "postgresql" else ""
