"""Retention's edge cases on every live engine, on a small hand-made dataset in New York time
(daylight saving starts 2025-03-09 02:00): a return in the cohort's own bucket, a return exactly
at the start of a later bucket, an hour that does not exist, Sunday weeks, a cohort with no
members, a unit whose first start event is before the range, several start events of one unit
(recurring), events without a unit id, a return at now (ignored), periods cut by now. Each case
is checked against the reference (tests/oracle_retention.py), and the reference against numbers
worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from tests.backends import BACKENDS
from tests.conftest import Dataset
from tests.oracle_retention import retention_oracle
from tests.test_retention import check

NY = ZoneInfo("America/New_York")
NEW_YORK = {"timezone": "America/New_York"}


def _utc(*local: int) -> datetime:
    """A New York wall-clock time as naive UTC (how the events table stores it)."""
    return datetime(*local, tzinfo=NY).astimezone(UTC).replace(tzinfo=None)


EVENTS = [
    ("a", _utc(2025, 3, 7, 10), "signup"),
    ("a", _utc(2025, 3, 7, 15), "open"),  # in the cohort's own bucket: not period 1
    ("a", _utc(2025, 3, 8, 0, 0), "open"),  # exactly at the next day's start: period 1
    ("a", _utc(2025, 3, 10, 0, 0), "open"),  # period 3
    ("b", _utc(2025, 3, 8, 23, 30), "signup"),
    ("b", _utc(2025, 3, 9, 3, 30), "open"),  # after the jump: period 1
    ("b", _utc(2025, 3, 11, 12), "open"),  # at now: ignored
    ("c", _utc(2025, 3, 1, 9), "signup"),  # first sign-up before the range: no first-time cohort
    ("c", _utc(2025, 3, 9, 10), "signup"),
    ("c", _utc(2025, 3, 10, 10), "open"),
    ("d", _utc(2025, 3, 8, 9), "open"),
    ("d", _utc(2025, 3, 8, 18), "open"),  # twice in one bucket: one recurring cohort
    ("d", _utc(2025, 3, 9, 1, 30), "open"),  # the hour before the gap ...
    ("d", _utc(2025, 3, 9, 3, 15), "open"),  # ... and the one after: consecutive hourly buckets
    ("d", _utc(2025, 3, 11, 9), "open"),
    ("e", _utc(2025, 3, 2, 11), "open"),  # a Sunday: Sunday weeks put it with the next days
    ("e", _utc(2025, 3, 3, 11), "open"),
    ("e", _utc(2025, 3, 9, 11), "open"),
    (None, _utc(2025, 3, 8, 10), "signup"),
    (None, _utc(2025, 3, 9, 10), "open"),
]


def load_events(
    backend: str, factory: pytest.TempPathFactory, rows: list[Any], name: str, extra: tuple[str, ...] = ()
) -> Dataset:
    """``rows`` of (user id, naive UTC time, event name, *``extra`` text columns) loaded into
    ``backend`` as ``events``."""
    columns = {
        "user_id": pa.array([e[0] for e in rows], pa.string()),
        "event_time": pa.array([e[1] for e in rows], pa.timestamp("us")),
        "event_name": pa.array([e[2] for e in rows], pa.string()),
    }
    columns.update({c: pa.array([e[3 + j] for e in rows], pa.string()) for j, c in enumerate(extra)})
    events = pa.table(columns)
    url = BACKENDS[backend].load({"events": events}, factory.mktemp(f"{backend}-{name}"), name)
    return Dataset(name, backend, url, events, None, "event_name")


@pytest.fixture(scope="module")
def crafted(backend: str, tmp_path_factory: pytest.TempPathFactory):
    dataset = load_events(backend, tmp_path_factory, EVENTS, "retention")
    yield dataset
    dataset.close()


DAILY = {
    "retention": {"start": "signup", "return": "open", "periods": 3},
    "date_range": {"from": "2025-03-07", "to": "2025-03-10"},
    "time_grain": "day",
}
NOW = datetime(2025, 3, 11, 12)  # New York wall clock

CASES: dict[str, tuple[dict[str, Any], datetime, dict[str, Any]]] = {
    "daily across the jump": (DAILY, NOW, NEW_YORK),
    "daily in UTC": (DAILY, NOW, {}),
    "daily, on or after": (
        {**DAILY, "retention": {**DAILY["retention"], "cumulative": True}},
        NOW,
        NEW_YORK,
    ),
    "hourly through the missing hour": (
        {
            "retention": {"start": "open", "start_mode": "recurring", "periods": 3},
            "date_range": {"from": "2025-03-08T23:00:00", "to": "2025-03-09T04:00:00"},
            "time_grain": "hour",
        },
        datetime(2025, 3, 9, 5),
        NEW_YORK,
    ),
    "recurring Sunday weeks": (
        {
            "retention": {"start": "open", "start_mode": "recurring", "periods": 2, "return": "any"},
            "date_range": {"from": "2025-03-01", "to": "2025-03-12"},
            "time_grain": "week",
        },
        datetime(2025, 3, 20),
        {**NEW_YORK, "week_start": "sunday"},
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_edges_equal_the_oracle(crafted: Any, name: str) -> None:
    query, now, options = CASES[name]
    check(crafted, query, now, options)


def _oracle(name: str) -> dict[tuple[Any, int], tuple[int, int]]:
    query, now, options = CASES[name]
    rows = retention_oracle(
        query,
        [dict(zip(("user_id", "event_time", "event_name"), e, strict=True)) for e in EVENTS],
        None,
        now=now,
        **options,
    )
    return {(r["cohort"], r["period"]): (r["count"], r["cohort_size"]) for r in rows}


def test_the_reference_agrees_with_the_hand_worked_answers() -> None:
    daily = _oracle("daily across the jump")
    day = [datetime(2025, 3, d) for d in (7, 8, 9)]
    assert [daily[(day[0], k)][0] for k in range(4)] == [1, 1, 0, 1]  # a: own bucket no, edge yes, period 3
    assert [daily[(day[1], k)][0] for k in range(4)] == [1, 1, 0, 0]  # b: after the jump; at now ignored
    assert [daily[(day[2], k)] for k in range(3)] == [(0, 0)] * 3  # c's first sign-up is before the range
    assert (day[2], 3) not in daily  # its period 3 (March 12) starts after now
    assert daily[(None, 1)] == (2, 2) and daily[(None, 3)] == (1, 2)  # summary: cohorts reporting period 3
    cumulative = _oracle("daily, on or after")
    assert [cumulative[(day[0], k)][0] for k in range(4)] == [1, 1, 1, 1]
    hourly = _oracle("hourly through the missing hour")
    one_am, three_am = datetime(2025, 3, 9, 1), datetime(2025, 3, 9, 3)
    assert (datetime(2025, 3, 9, 2), 0) not in hourly  # 02:00 did not happen
    assert hourly[(one_am, 1)] == (1, 1)  # d at 01:30 and 03:15: the next bucket
    assert hourly[(three_am, 0)] == (2, 2)  # d, and b at 03:30
    weeks = _oracle("recurring Sunday weeks")
    # Sunday weeks: e's Sunday and Monday are one week (one cohort for e), with a and d
    assert weeks[(datetime(2025, 3, 2), 0)] == (3, 3) and weeks[(datetime(2025, 3, 2), 1)] == (3, 3)
    assert weeks[(datetime(2025, 2, 23), 0)] == (0, 0)  # the range's first week: no event inside the range
