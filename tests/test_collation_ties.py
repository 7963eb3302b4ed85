"""Ties broken by a text value follow code points on every engine, whatever the database collation.

Where segwise picks one value among tied rows (a unit's first start event when two share the
instant: the smallest value) or ranks tied groups (top-N: "ties by value asc, nulls last") or
orders the answer's breakdown values, the order is text by code point (docs/queries.md). PostgreSQL
orders text by the column's or the database's collation: under a linguistic one (ICU, en_US) 'a'
sorts before 'B' and 'é' before 'f', where DuckDB, SQLite, chDB and Spark compare bytes. The values
below order differently under the two, and every live engine must give the plain-Python
reference's answer (tests/oracle.py, tests/oracle_funnel.py, tests/oracle_retention.py). On
PostgreSQL the property column is given a linguistic collation (ICU root) whatever the server's
default, and the test checks that the column really orders 'a' before 'B' there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

import segwise
from tests.oracle_funnel import funnel_oracle
from tests.test_funnel import assert_funnel
from tests.test_retention import check as check_retention
from tests.test_retention_edges import load_events

# (unit, time, event, channel): code point order A < B < Z < a < f < é; ICU root a < A < B < é < f < Z
EVENTS = [
    ("u1", datetime(2025, 3, 3, 9), "signup", "a"),  # same instant: the smallest by code point is B
    ("u1", datetime(2025, 3, 3, 9), "signup", "B"),
    ("u1", datetime(2025, 3, 4, 9), "open", None),
    ("u2", datetime(2025, 3, 3, 10), "signup", "é"),  # same instant: f (é is U+00E9)
    ("u2", datetime(2025, 3, 3, 10), "signup", "f"),
    ("u2", datetime(2025, 3, 3, 11), "open", None),
    ("u2", datetime(2025, 3, 5, 10), "open", None),
    ("u3", datetime(2025, 3, 4, 10), "signup", "a"),  # same instant: A
    ("u3", datetime(2025, 3, 4, 10), "signup", "A"),
    ("u3", datetime(2025, 3, 5, 10), "open", None),
    ("u4", datetime(2025, 3, 4, 11), "signup", "Z"),
    ("u5", datetime(2025, 3, 5, 12), "signup", "a"),
    ("u5", datetime(2025, 3, 5, 13), "open", None),
]
NOW = datetime(2025, 3, 9)
RETENTION: dict[str, Any] = {
    "retention": {"start": "signup", "return": "open", "periods": 2},
    "date_range": {"from": "2025-03-03", "to": "2025-03-06"},
    "time_grain": "day",
    "breakdown": ["channel"],
}
RETENTION_CASES: dict[str, dict[str, Any]] = {
    "first time": RETENTION,
    "first time, top 2": {**RETENTION, "breakdown_limit": 2},
    "rolling first time": {**RETENTION, "retention": {**RETENTION["retention"], "windows": "rolling"}},
    "recurring, on or after": {
        **RETENTION,
        "retention": {**RETENTION["retention"], "start_mode": "recurring", "cumulative": True},
    },
}
MARCH_3 = {"from": "2025-03-03", "to": "2025-03-04"}  # u1 and u2: a, B, é, f tied at one unit each
FUNNEL_CASES: dict[str, dict[str, Any]] = {
    f"top {n}": {
        "funnel": {"steps": [{"event": "signup"}, {"event": "open"}], "window": "1d"},
        "date_range": MARCH_3,
        "breakdown": ["channel"],
        "breakdown_limit": n,
    }
    for n in (1, 3)
}
SEGMENTATION: dict[str, Any] = {
    "series": [{"event": "signup", "measure": "unique_users"}],
    "date_range": MARCH_3,
    "time_grain": "total",
    "breakdown": ["channel"],
}
SEGMENTATION_CASES = {"all": SEGMENTATION, "top 1": {**SEGMENTATION, "breakdown_limit": 1}}
SPARK_CASES = {"first time, top 2", "top 3", "top 1"}


def _linguistic(url: str) -> None:
    """Give PostgreSQL's ``events.channel`` the ICU root collation (a test server may default to
    C), and check that it orders 'a' before 'B', so the cases below can tell the orders apart."""
    import adbc_driver_postgresql.dbapi as pg

    with pg.connect(url, autocommit=True) as con, con.cursor() as cur:
        cur.execute('ALTER TABLE events ALTER COLUMN channel TYPE text COLLATE "und-x-icu"')
        cur.execute("SELECT min(channel), max(channel) FROM events WHERE channel IN ('a', 'B')")
        assert cur.fetchall() == [("a", "B")], "the column does not order linguistically"


@pytest.fixture(scope="module")
def ties(backend: str, tmp_path_factory: pytest.TempPathFactory):
    dataset = load_events(backend, tmp_path_factory, EVENTS, "collation_ties", ("channel",))
    if backend == "postgresql":
        _linguistic(dataset.url)
    yield dataset
    dataset.close()


def _spark_skips(dataset: Any, name: str) -> None:
    if dataset.backend == "spark" and name not in SPARK_CASES:
        pytest.skip("Spark runs a few of the cases (one slow JVM)")


@pytest.mark.parametrize("name", list(RETENTION_CASES))
def test_retention_ties_by_code_point(ties: Any, name: str) -> None:
    _spark_skips(ties, name)
    expected = check_retention(ties, RETENTION_CASES[name], NOW, {})
    groups = {r["channel"] for r in expected}
    if name == "first time, top 2":  # five groups of one unit each: the two smallest by code point
        assert groups == {"A", "B", "Other"}
    else:  # the tied start events resolve to B, f and A (linguistically: a, é, a)
        assert {"A", "B", "f"} <= groups and "é" not in groups


@pytest.mark.parametrize("name", list(FUNNEL_CASES))
def test_funnel_top_n_ties_by_code_point(ties: Any, name: str) -> None:
    _spark_skips(ties, name)
    query = FUNNEL_CASES[name]
    expected = funnel_oracle(query, ties.events.to_pylist(), None)
    assert_funnel(segwise.run(query, ties.project()), expected, query)
    kept = {r["channel"] for r in expected} - {"Other"}
    assert kept == {"1": {"B"}, "3": {"B", "a", "f"}}[name.split()[1]]  # all four tied at one unit


@pytest.mark.parametrize("name", list(SEGMENTATION_CASES))
def test_segmentation_ties_by_code_point(ties: Any, name: str) -> None:
    _spark_skips(ties, name)
    expected = ties.check(SEGMENTATION_CASES[name])
    assert [r["channel"] for r in expected] == (["B", "Other"] if name == "top 1" else ["B", "a", "f", "é"])
