"""Retention with ``windows: rolling`` on every live engine against the plain-Python reference
(tests/oracle_retention.py): periods of one grain of elapsed time from each unit's t0, first-time
and recurring, "on" and "on or after", hour/day/week, breakdowns; fixed-seed random queries; a
hand-made New York dataset across the daylight-saving jump (a return exactly at t0 + k·P, one
millisecond before it, hours that elapse differently from the wall clock), the reference checked
against numbers worked out by hand. Spark (slow: one JVM) runs a few of the cases."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.oracle_retention import retention_oracle
from tests.test_retention import NOW, check, q
from tests.test_retention_edges import load_events

SPARK_CASES = {"weekly sign-ups, rolling", "recurring daily purchases, rolling, on or after"}
DAYS = {"from": date(2025, 1, 20), "to": date(2025, 2, 3)}

CASES: dict[str, tuple[dict[str, Any], datetime, dict[str, Any]]] = {
    "weekly sign-ups, rolling": (q(spec={"return": "any", "periods": 4, "windows": "rolling"}), NOW, {}),
    "weekly sign-ups, rolling, on or after": (
        q(spec={"return": "login", "periods": 5, "windows": "rolling", "cumulative": True}),
        NOW,
        {},
    ),
    "recurring daily purchases, rolling, cut by now": (
        q(
            "purchase",
            grain="day",
            rng=DAYS,
            spec={"start_mode": "recurring", "periods": 7, "return": "any", "windows": "rolling"},
        ),
        datetime(2025, 1, 30, 12),
        {},
    ),
    "recurring daily purchases, rolling, on or after": (
        q(
            "purchase",
            grain="day",
            rng=DAYS,
            spec={"start_mode": "recurring", "periods": 5, "return": "login", "windows": "rolling", "cumulative": True},
        ),
        NOW,
        {},
    ),
    "hourly logins, rolling": (
        q(
            "login",
            grain="hour",
            rng={"from": datetime(2025, 1, 20, 8), "to": datetime(2025, 1, 20, 20)},
            spec={"start_mode": "recurring", "periods": 6, "return": "any", "windows": "rolling"},
        ),
        datetime(2025, 1, 21),
        {},
    ),
    "rolling by country, top 3, in Kolkata": (
        q(spec={"return": "any", "windows": "rolling"}, breakdown=["country"], breakdown_limit=3),
        NOW,
        {"timezone": "Asia/Kolkata", "week_start": "sunday"},
    ),
}


def _nontrivial(expected: list[dict[str, Any]]) -> None:
    returned = [r for r in expected if r["cohort"] is not None and r["period"] >= 1 and r["count"]]
    assert returned and any(r["count"] < r["cohort_size"] for r in returned), "a case that checks little"


@pytest.mark.parametrize("name", list(CASES))
def test_rolling_retention_equals_the_oracle(generated: Any, name: str) -> None:
    if generated.backend == "spark" and name not in SPARK_CASES:
        pytest.skip("Spark runs a few of the cases (one slow JVM)")
    query, now, options = CASES[name]
    _nontrivial(check(generated, query, now, options))


def _random_query(rng: random.Random) -> tuple[dict[str, Any], datetime]:
    grain = rng.choice(["hour", "day", "week", "week"])
    first = datetime(2025, 1, rng.randint(1, 20))
    length = {"hour": rng.randint(6, 40), "day": rng.randint(3, 15) * 24, "week": rng.randint(14, 40) * 24}[grain]
    to = datetime.fromtimestamp(first.timestamp() + length * 3600)
    events = ["signup", "login", "page_view", "purchase", "feature_used"]
    start = rng.choice(events)
    spec: dict[str, Any] = {
        "start": start,
        "start_mode": "first_time" if start == "signup" or rng.random() < 0.3 else "recurring",
        "periods": rng.randint(1, 10),
        "cumulative": rng.random() < 0.5,
        "windows": "rolling",
    }
    if rng.random() < 0.7:
        spec["return"] = rng.choice([*events, "any"])
    query: dict[str, Any] = {"retention": spec, "date_range": {"from": first, "to": to}, "time_grain": grain}
    if rng.random() < 0.4:
        query["breakdown"] = [rng.choice(["country", "account_type"])]
        if rng.random() < 0.5:
            query["breakdown_limit"] = rng.randint(1, 3)
    now = datetime.fromtimestamp(to.timestamp() + rng.randint(-100, 900) * 3600)
    return query, now


RANDOM = [_random_query(random.Random(3000 + seed)) for seed in range(8)]


@pytest.mark.parametrize("seed", range(len(RANDOM)))
def test_random_rolling_queries(generated: Any, seed: int) -> None:
    if generated.backend == "spark" and seed >= 1:
        pytest.skip("Spark runs one of the random queries (one slow JVM)")
    query, now = RANDOM[seed]
    check(generated, query, now, {})


def test_random_rolling_queries_are_not_trivial() -> None:
    modes = {(q["retention"]["start_mode"], q["retention"]["cumulative"]) for q, _now in RANDOM}
    assert len(modes) == 4 and {q["time_grain"] for q, _now in RANDOM} == {"hour", "day", "week"}


NY = ZoneInfo("America/New_York")  # daylight saving starts 2025-03-09 02:00


def _utc(*local: int) -> datetime:
    """A New York wall-clock time as naive UTC (how the events table stores it)."""
    return datetime(*local, tzinfo=NY).astimezone(UTC).replace(tzinfo=None)


EVENTS = [
    ("f", _utc(2025, 3, 8, 10), "trial"),  # t0 (EST); t0 + 24 h is 11:00 EDT on the 9th
    ("f", _utc(2025, 3, 9, 8), "trial"),  # recurring: the 9th's cohort, t0 08:00 EDT
    ("f", _utc(2025, 3, 9, 10, 59, 59, 999000), "visit"),  # 1 ms before t0 + 24 h: period 0 (calendar: 1)
    ("f", _utc(2025, 3, 10, 11), "visit"),  # exactly t0 + 48 h: period 2 (the 9th's cohort: 27 h, period 1)
    ("g", _utc(2025, 3, 7, 23, 30), "trial"),
    ("g", _utc(2025, 3, 8, 23, 30), "visit"),  # exactly t0 + 24 h: period 1
    ("g", _utc(2025, 3, 9, 23, 0), "trial"),  # the 9th's recurring cohort
    ("h", _utc(2025, 3, 9, 1, 30), "trial"),  # the hour before the gap ...
    ("h", _utc(2025, 3, 9, 3, 15), "visit"),  # ... 45 minutes later: period 0 (calendar hours: 1)
    ("h", _utc(2025, 3, 9, 4, 30), "visit"),  # t0 + 2 h: period 2
    ("h", _utc(2025, 3, 9, 5, 0), "visit"),  # at now: ignored
    (None, _utc(2025, 3, 8, 10), "trial"),
]
EDGE_NOW = datetime(2025, 3, 11, 12)
DAILY = {
    "retention": {"start": "trial", "return": "visit", "periods": 3, "windows": "rolling"},
    "date_range": {"from": "2025-03-07", "to": "2025-03-10"},
    "time_grain": "day",
}
EDGES: dict[str, tuple[dict[str, Any], datetime]] = {
    "daily first-time": (DAILY, EDGE_NOW),
    "daily recurring": ({**DAILY, "retention": {**DAILY["retention"], "start_mode": "recurring"}}, EDGE_NOW),
    "daily, on or after": ({**DAILY, "retention": {**DAILY["retention"], "cumulative": True}}, EDGE_NOW),
    "hourly through the missing hour": (
        {
            "retention": {"start": "trial", "return": "visit", "periods": 3, "windows": "rolling"},
            "date_range": {"from": "2025-03-09T00:00:00", "to": "2025-03-09T04:00:00"},
            "time_grain": "hour",
        },
        datetime(2025, 3, 9, 5),
    ),
}


@pytest.fixture(scope="module")
def crafted(backend: str, tmp_path_factory: pytest.TempPathFactory):
    dataset = load_events(backend, tmp_path_factory, EVENTS, "rolling")
    yield dataset
    dataset.close()


@pytest.mark.parametrize("name", list(EDGES))
def test_rolling_edges_equal_the_oracle(crafted: Any, name: str) -> None:
    query, now = EDGES[name]
    check(crafted, query, now, {"timezone": "America/New_York"})


def _oracle(name: str) -> dict[tuple[Any, int], tuple[int, int]]:
    query, now = EDGES[name]
    events = [dict(zip(("user_id", "event_time", "event_name"), e, strict=True)) for e in EVENTS]
    rows = retention_oracle(query, events, None, now=now, timezone="America/New_York")
    return {(r["cohort"], r["period"]): (r["count"], r["cohort_size"]) for r in rows}


def test_the_reference_agrees_with_the_hand_worked_answers() -> None:
    day = [datetime(2025, 3, d) for d in (7, 8, 9)]
    daily = _oracle("daily first-time")
    assert [daily[(day[0], k)][0] for k in range(4)] == [1, 1, 0, 0]  # g: exactly t0 + 24 h
    assert [daily[(day[1], k)][0] for k in range(4)] == [1, 0, 1, 0]  # f: 1 ms before 24 h; exactly 48 h
    assert daily[(day[2], 0)] == (1, 1)  # h
    recurring = _oracle("daily recurring")
    assert [recurring[(day[2], k)][0] for k in range(3)] == [3, 1, 0]  # f, g, h; f's 27 h is period 1
    cumulative = _oracle("daily, on or after")
    assert [cumulative[(day[1], k)][0] for k in range(4)] == [1, 1, 1, 0]  # f: at or after 24 h, 48 h
    hourly = _oracle("hourly through the missing hour")
    assert [hourly[(datetime(2025, 3, 9, 1), k)][0] for k in range(3)] == [1, 0, 1]  # h: 45 min, then 2 h
    assert (datetime(2025, 3, 9, 1), 3) not in hourly  # its 3rd bucket after (05:00) is now


@pytest.mark.parametrize("name", ["weekly sign-ups, rolling, on or after", "rolling by country, top 3, in Kolkata"])
def test_the_rolling_sql_to_paste_answers_as_run(generated: Any, name: str) -> None:
    from tests.test_paste import check_paste

    if generated.backend == "spark":
        pytest.skip("Spark pastes calendar retention only (one slow JVM)")
    query, _now, _options = CASES[name]
    check_paste(generated.project(), query)
