"""Retention broken down by a property of the start event, on every live engine against the
plain-Python reference (tests/oracle_retention.py): first-time and recurring cohorts, calendar and
rolling periods, "on" and "on or after", mixed with user properties, top-N + Other, NULL values,
start events of several kinds (one without the property); fixed-seed random queries; and a
hand-made dataset where one unit's start events carry different values (first_time: its first
start event's; recurring: each bucket's first), two start events at the same instant (the smallest
value, nulls last), a first start event whose value is NULL, with the reference checked against
answers worked out by hand. Spark (slow: one JVM) runs a few of the cases."""

from __future__ import annotations

import random
from datetime import date, datetime
from typing import Any

import pytest

from tests.oracle_retention import retention_oracle
from tests.test_retention import NOW, check, q
from tests.test_retention_edges import load_events

SPARK_CASES = {"weekly sign-ups by platform", "recurring page views or logins by url, top 3"}

CASES: dict[str, tuple[dict[str, Any], datetime]] = {
    "weekly sign-ups by platform": (q(spec={"return": "any", "periods": 4}, breakdown=["event.platform"]), NOW),
    "weekly sign-ups by platform, on or after": (
        q(spec={"return": "login", "periods": 4, "cumulative": True}, breakdown=["event.platform"]),
        NOW,
    ),
    "recurring page views or logins by url, top 3": (
        q(
            {"event": {"any_of": ["page_view", "login"]}},
            grain="day",
            rng={"from": date(2025, 1, 20), "to": date(2025, 2, 3)},
            spec={"start_mode": "recurring", "periods": 5, "return": "any"},
            breakdown=["url"],
            breakdown_limit=3,
        ),
        datetime(2025, 2, 1, 12),
    ),
    "recurring weekly features by feature and country, on or after": (
        q(
            "feature_used",
            spec={"start_mode": "recurring", "periods": 3, "cumulative": True, "return": "any"},
            breakdown=["feature", "country"],
            breakdown_limit=4,
        ),
        NOW,
    ),
    "rolling daily first-time sign-ups by platform": (
        q(
            grain="day",
            rng={"from": date(2025, 1, 10), "to": date(2025, 1, 25)},
            spec={"return": "any", "periods": 6, "windows": "rolling"},
            breakdown=["event.platform"],
        ),
        NOW,
    ),
    "rolling recurring logins by platform, on or after": (
        q(
            "login",
            grain="day",
            rng={"from": date(2025, 1, 20), "to": date(2025, 1, 30)},
            spec={"start_mode": "recurring", "periods": 4, "windows": "rolling", "cumulative": True},
            breakdown=["event.platform"],
            breakdown_limit=2,
        ),
        NOW,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_start_event_breakdowns_equal_the_oracle(generated: Any, name: str) -> None:
    if generated.backend == "spark" and name not in SPARK_CASES:
        pytest.skip("Spark runs a few of the cases (one slow JVM)")
    query, now = CASES[name]
    expected = check(generated, query, now, {})
    groups = {tuple(r[b] for b in query["breakdown"]) for r in expected}
    returned = [r for r in expected if r["cohort"] is not None and r["period"] >= 1 and r["count"]]
    assert len(groups) >= 2 and returned, "a case that checks little"


def _random_query(rng: random.Random) -> tuple[dict[str, Any], datetime]:
    grain = rng.choice(["day", "week"])
    first = date(2025, 1, rng.randint(1, 20))
    to = date.fromordinal(first.toordinal() + (rng.randint(3, 15) if grain == "day" else rng.randint(14, 40)))
    start, prop = rng.choice(
        [("signup", "event.platform"), ("login", "event.platform"), ("page_view", "url"), ("feature_used", "feature")]
    )
    spec: dict[str, Any] = {
        "start": start,
        "start_mode": "first_time" if start == "signup" or rng.random() < 0.3 else "recurring",
        "periods": rng.randint(1, 8),
        "cumulative": rng.random() < 0.5,
        "windows": rng.choice(["calendar", "rolling"]),
        "return": rng.choice(["login", "page_view", "any"]),
    }
    query: dict[str, Any] = {"retention": spec, "date_range": {"from": first, "to": to}, "time_grain": grain}
    query["breakdown"] = [prop] if rng.random() < 0.6 else [prop, "account_type"]
    if rng.random() < 0.5:
        query["breakdown_limit"] = rng.randint(1, 3)
    now = datetime.fromordinal(to.toordinal() + rng.randint(-3, 30)).replace(hour=rng.choice([0, 13]))
    return query, now


RANDOM = [_random_query(random.Random(7000 + seed)) for seed in range(8)]


@pytest.mark.parametrize("seed", range(len(RANDOM)))
def test_random_start_event_breakdowns(generated: Any, seed: int) -> None:
    if generated.backend == "spark" and seed >= 1:
        pytest.skip("Spark runs one of the random queries (one slow JVM)")
    query, now = RANDOM[seed]
    check(generated, query, now, {})


def test_random_queries_are_not_trivial() -> None:
    kinds = {(q["retention"]["start_mode"], q["retention"]["windows"]) for q, _now in RANDOM}
    assert len(kinds) == 4 and any("breakdown_limit" in q for q, _now in RANDOM)
    assert any(len(q["breakdown"]) == 2 for q, _now in RANDOM)


# -- a hand-made dataset (UTC, daily cohorts March 3-5): (unit, time, event, channel) ---------------

EVENTS = [
    ("a", datetime(2025, 3, 3, 9), "signup", "x"),  # first_time: x; recurring: x on the 3rd ...
    ("a", datetime(2025, 3, 4, 9), "signup", "y"),  # ... and y on the 4th
    ("a", datetime(2025, 3, 4, 12), "open", "y"),
    ("a", datetime(2025, 3, 5, 10), "open", None),
    ("b", datetime(2025, 3, 3, 10), "signup", "y"),  # two at the same instant: the smallest, x
    ("b", datetime(2025, 3, 3, 10), "signup", "x"),
    ("b", datetime(2025, 3, 5, 10), "open", "z"),  # a return's own value does not matter
    ("c", datetime(2025, 3, 4, 8), "signup", None),  # the first start's value is NULL: group NULL
    ("c", datetime(2025, 3, 4, 9), "signup", "x"),
    ("c", datetime(2025, 3, 6, 9), "open", "x"),
    ("d", datetime(2025, 3, 5, 7), "signup", "y"),  # the bucket's earliest (y), not its smallest (x)
    ("d", datetime(2025, 3, 5, 20), "signup", "x"),
    ("d", datetime(2025, 3, 6, 9), "open", None),
    ("e", datetime(2025, 3, 5, 12), "signup", None),  # same instant, NULL and z: z (nulls last)
    ("e", datetime(2025, 3, 5, 12), "signup", "z"),
    ("f", datetime(2025, 3, 1, 9), "signup", "x"),  # first sign-up before the range: no first-time cohort
    ("f", datetime(2025, 3, 4, 9), "signup", "y"),
    ("f", datetime(2025, 3, 5, 9), "open", "x"),
    ("g", datetime(2025, 3, 3, 8), "signup", "y"),
    ("g", datetime(2025, 3, 4, 8), "open", "y"),
]
DAILY = {
    "retention": {"start": "signup", "return": "open", "periods": 3},
    "date_range": {"from": "2025-03-03", "to": "2025-03-06"},
    "time_grain": "day",
    "breakdown": ["channel"],
}
HAND_NOW = datetime(2025, 3, 9)


def _with(**spec: Any) -> dict[str, Any]:
    return {**DAILY, "retention": {**DAILY["retention"], **spec}}


HAND_CASES: dict[str, dict[str, Any]] = {
    "first time": DAILY,
    "first time, on or after": _with(cumulative=True),
    "recurring": _with(start_mode="recurring"),
    "recurring, top 1 + Other": {**_with(start_mode="recurring"), "breakdown_limit": 1},
    "rolling first time": _with(windows="rolling"),
    "rolling recurring, on or after": _with(windows="rolling", start_mode="recurring", cumulative=True),
}


@pytest.fixture(scope="module")
def channels(backend: str, tmp_path_factory: pytest.TempPathFactory):
    dataset = load_events(backend, tmp_path_factory, EVENTS, "retention_channels", ("channel",))
    yield dataset
    dataset.close()


@pytest.mark.parametrize("name", list(HAND_CASES))
def test_hand_made_start_values_equal_the_oracle(channels: Any, name: str) -> None:
    if channels.backend == "spark" and name not in ("first time", "recurring, top 1 + Other"):
        pytest.skip("Spark runs a few of the cases (one slow JVM)")
    check(channels, HAND_CASES[name], HAND_NOW, {})


def _oracle(name: str) -> dict[tuple[Any, str | None, int], tuple[int, int]]:
    rows = retention_oracle(
        HAND_CASES[name],
        [dict(zip(("user_id", "event_time", "event_name", "channel"), e, strict=True)) for e in EVENTS],
        None,
        now=HAND_NOW,
    )
    return {(r["cohort"], r["channel"], r["period"]): (r["count"], r["cohort_size"]) for r in rows}


def test_the_reference_agrees_with_the_hand_worked_answers() -> None:
    d3, d4, d5 = (datetime(2025, 3, d) for d in (3, 4, 5))
    first = _oracle("first time")
    # a and b (x: b's two sign-ups at one instant), g (y); c's first sign-up has no value; d's first is y
    assert [first[(d3, "x", k)] for k in range(4)] == [(2, 2), (1, 2), (2, 2), (0, 2)]
    assert [first[(d3, "y", k)][0] for k in range(4)] == [1, 1, 0, 0]
    assert first[(d4, None, 0)] == (1, 1) and first[(d4, None, 2)] == (1, 1)  # c
    assert first[(d5, "y", 1)] == (1, 1) and first[(d5, "z", 0)] == (1, 1)  # d; e: z before NULL
    assert first[(d4, "y", 0)] == (0, 0)  # f's first sign-up is before the range
    recurring = _oracle("recurring")
    # a is x on the 3rd and y on the 4th; f joins on the 4th (y)
    assert recurring[(d3, "x", 0)] == (2, 2) and recurring[(d4, "y", 0)] == (2, 2)
    assert recurring[(d4, "y", 1)] == (2, 2)  # a (open on the 5th) and f (open on the 5th)
    assert recurring[(d4, None, 0)] == (1, 1) and recurring[(d5, "y", 0)] == (1, 1)
    top = _oracle("recurring, top 1 + Other")
    # y: 4 memberships (g, a, f, d), x: 2, NULL: 1, z: 1 -> y kept, the rest Other
    assert {g for _c, g, _k in top} == {"y", "Other"}
    assert top[(None, "Other", 0)] == (4, 4) and top[(None, "y", 0)] == (4, 4)
