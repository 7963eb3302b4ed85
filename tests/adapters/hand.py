"""The small hand-made dataset of the adapter tests (``tests/adapters/``): its tables, the engines
it is loaded into, a project over it and the queries the engines must answer alike. ``hand_tables``
is also the dataset of ``test_clickhouse.py`` and ``test_spark.py``."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import segwise
from tests.backends import BACKENDS

ENGINES = ("duckdb", "sqlite", "postgresql")
RANGE = {"from": "2024-01-01", "to": "2024-07-01"}


# -- a small hand-made dataset ------------------------------------------------------------------


def _events() -> pa.Table:
    """Prices are multiples of 1/4, so every sum is exact whatever the summation order."""
    rows: list[tuple[datetime, str, str, float | None, str | None, int, bool | None, str | None]] = [
        # time, event, user, price, product-id, qty, flag, brand
        (datetime(2024, 1, 1, 0, 0), "view", "u1", None, None, 1, None, None),  # leading nulls
        (datetime(2024, 1, 1, 9, 30, 0, 250000), "view", "u2", 2.5, "p-1", 2, True, "B"),
        (datetime(2024, 1, 1, 23, 59, 59, 999999), "cart", "u1", 10.25, "p-2", 1, False, "a"),
        (datetime(2024, 1, 6, 12, 0), "view", "u3", 1.0, "p-1", 3, True, "_"),
        (datetime(2024, 1, 7, 8, 0), "purchase", "u2", 99.75, "p-3", 1, True, "Z"),
        (datetime(2024, 1, 7, 23, 0), "view", "u1", 4.0, "p-2", 1, False, "B"),
        (datetime(2024, 1, 8, 0, 0), "view", "u4", 0.5, "p-1", 5, None, "a"),
        (datetime(2024, 1, 14, 18, 45), "cart", "u3", 7.75, "p-3", 2, True, "_"),
        (datetime(2024, 2, 29, 12, 0), "view", "u5", 3.25, "p-2", 1, False, "Z"),
        (datetime(2024, 3, 31, 23, 59, 59), "purchase", "u4", 20.0, "p-1", 4, True, "B"),
        (datetime(2024, 4, 1, 0, 0), "view", "u1", 5.5, "p-3", 1, True, "a"),
        (datetime(2024, 6, 30, 23, 0), "cart", "u2", 0.25, None, 2, False, "_"),
        (datetime(2024, 7, 1, 0, 0), "view", "u5", 1.5, "p-1", 1, True, "Z"),  # outside [from, to)
    ]
    names = ["event_time", "event_type", "user_id", "price", "product-id", "qty", "flag", "brand"]
    types = [
        pa.timestamp("us"),
        pa.string(),
        pa.string(),
        pa.float64(),
        pa.string(),
        pa.int64(),
        pa.bool_(),
        pa.string(),
    ]
    columns = list(zip(*rows, strict=True))
    return pa.table([pa.array(c, type=t) for c, t in zip(columns, types, strict=True)], names=names)


def _users() -> pa.Table:
    return pa.table(
        {
            "user_id": ["u1", "u2", "u3", "u4"],
            "plan": ["free", "pro", None, "free"],
            "signup": pa.array([date(2023, 12, 1), date(2024, 1, 1), None, date(2024, 1, 8)], type=pa.date32()),
            "vip": pa.array([False, True, None, False], type=pa.bool_()),
            "score": pa.array([1.0, 2.5, 1e20, 3.0], type=pa.float64()),
        }
    )


def hand_tables() -> dict[str, pa.Table]:
    events = _events()
    utc = events.set_column(0, "event_time", events.column("event_time").cast(pa.timestamp("us", tz="UTC")))
    return {"events": events, "events_tz": utc, "users": _users()}


def url_for(name: str, urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> str:
    if name not in urls:
        directory = tmp_path_factory.mktemp(f"adapters-{name}")
        urls[name] = BACKENDS[name].load(hand_tables(), directory, "hand")
    return urls[name]


def hand_project(url: str, table: str = "events", **options: Any) -> segwise.Project:
    return segwise.Project(
        warehouse=url,
        event_tables=[{"table": table, "event_name": "event_type"}],
        user_tables=[{"table": "users"}],
        **options,
    )


QUERIES: dict[str, dict[str, Any]] = {
    "events_by_day": {"series": [{"event": "view"}], "date_range": RANGE, "time_grain": "day"},
    "events_by_hour": {
        "series": [{"event": "any"}],
        "date_range": {"from": "2024-01-01", "to": "2024-01-02"},
        "time_grain": "hour",
    },
    "unique_users_by_week": {
        "series": [{"event": "any", "measure": "unique_users"}],
        "date_range": RANGE,
        "time_grain": "week",
    },
    "sum_by_month": {"series": [{"event": "any", "measure": "sum:price"}], "date_range": RANGE, "time_grain": "month"},
    "top_brands_with_ties": {
        "series": [{"event": "any", "measure": "events"}, {"event": "any", "measure": "sum:price"}],
        "date_range": RANGE,
        "time_grain": "quarter",
        "breakdown": ["brand"],
        "breakdown_limit": 2,
    },
    "flag_and_plan": {
        "series": [{"event": "any", "measure": "events_per_user"}],
        "date_range": RANGE,
        "time_grain": "year",
        "breakdown": ["flag", "plan"],
    },
    "numbers_as_breakdowns": {
        "series": [{"event": "any", "measure": "avg:price"}, {"event": "view", "measure": "max:qty"}],
        "date_range": RANGE,
        "time_grain": "total",
        "breakdown": ["qty", "score", "signup"],
    },
    "filters": {
        "series": [
            {"event": "any", "where": [{"property": "price", "op": "gte", "value": 2.5}], "measure": "min:price"},
            {"event": "any", "where": [{"property": "product-id", "op": "eq", "value": "p-1"}]},
            {"event": "any", "where": [{"property": "flag", "op": "eq", "value": True}]},
            {"event": "any", "where": [{"property": "brand", "op": "is_null"}]},
            {"event": "any", "where": [{"property": "signup", "op": "gte", "value": "2024-01-01"}]},
            {"event": "any", "where": [{"property": "product-id", "op": "starts_with", "value": "p-"}]},
        ],
        "date_range": RANGE,
        "time_grain": "month",
    },
    "weekly_active_users": {
        "series": [{"event": "any", "measure": "wau"}],
        "date_range": {"from": "2024-01-01", "to": "2024-02-01"},
        "time_grain": "week",
        "breakdown": ["brand"],
        "breakdown_limit": 2,
    },
}


def assert_answers_match_duckdb(project: segwise.Project, queries: dict[str, Any], directory: Path) -> None:
    """``project`` (over the hand-made dataset) answers each query as DuckDB does: the same
    schema, the same rows in the same order (DuckDB loaded into ``directory``)."""
    duck = hand_project(BACKENDS["duckdb"].load(hand_tables(), directory, "hand"))
    try:
        for name, query in queries.items():
            got, want = project.run(query), duck.run(query)
            assert got.schema == want.schema, name
            assert got.to_pylist() == want.to_pylist(), name
    finally:
        duck.close()
