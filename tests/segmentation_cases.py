"""Shared pieces of the segmentation suites (``tests/test_segmentation*.py``, ``tests/test_advanced*.py``):
the date ranges of the datasets, query builders, the guard against vacuous cases and the fixed-seed
random query generator."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

JAN = {"from": "2025-01-10", "to": "2025-02-10"}
FEB = {"from": date(2025, 2, 1), "to": date(2025, 3, 1)}
WEEK = {"from": date(2025, 1, 13), "to": date(2025, 1, 20)}
ALL = {"from": date(2025, 1, 1), "to": date(2025, 3, 2)}
SIMPLE_DAY = {"from": date(2020, 1, 1), "to": date(2020, 1, 2)}
SUBS = {"from": date(2021, 1, 1), "to": date(2021, 7, 1)}
EDGE = {"from": date(2025, 6, 1), "to": date(2025, 6, 11)}  # the edge dataset (conftest.edge_tables)


def q(*series: dict[str, Any], grain: str = "day", rng: dict | None = None, **extra: Any) -> dict[str, Any]:
    return {"series": list(series), "date_range": rng or JAN, "time_grain": grain, **extra}


def s(event: Any, measure: str = "events", *where: dict[str, Any], **extra: Any) -> dict[str, Any]:
    series: dict[str, Any] = {"event": event, "measure": measure, **extra}
    if where:
        series["where"] = list(where)
    return series


def c(prop: str, op: str, *operands: Any) -> dict[str, Any]:
    """A condition: one operand is ``value``; several (or a list for in/not_in) are ``values``."""
    cond: dict[str, Any] = {"property": prop, "op": op}
    if op in ("in", "not_in", "between"):
        cond["values"] = list(operands)
    elif operands:
        (cond["value"],) = operands
    return cond


def nontrivial(rows: list[dict[str, Any]]) -> None:
    """A guard against vacuous cases: the oracle's answer holds some non-zero value."""
    assert rows, "the oracle returned no rows"
    assert any(r["value"] for r in rows), "every value is 0 or null: the case checks nothing"


# ---------------------------------------------------------------------------------------------------
# random queries: a fixed-seed sample of the query space, engine against oracle

RANDOM_GRAINS = ["hour", "day", "week", "month", "quarter", "year", "total"]
RANDOM_TZS = ["UTC", "UTC", "America/New_York", "Asia/Kolkata"]


def random_condition(rng: random.Random, catalog: list[tuple[str, str, Any]]) -> dict[str, Any]:
    prop, op, operand = rng.choice(catalog)
    cond: dict[str, Any] = {"property": prop, "op": op}
    if isinstance(operand, list):
        cond["values"] = operand
    elif operand is not None:
        cond["value"] = operand
    return cond


def random_query(
    rng: random.Random,
    events: list[str],
    conditions: list[tuple[str, str, Any]],
    measures: list[str],
    breakdowns: list[str],
    starts: list[datetime],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A random valid query: 1-3 series (some combined events), filters, grain, range, breakdown, top-N."""
    series = []
    for _ in range(rng.choice([1, 1, 2, 3])):
        event: Any = rng.choice([*events, "any"])
        if rng.random() < 0.2:
            member = {"event": rng.choice(events), "where": [random_condition(rng, conditions)]}
            event = {"any_of": [rng.choice(events), member]}
        one: dict[str, Any] = {"event": event, "measure": rng.choice(measures)}
        if rng.random() < 0.5:
            one["where"] = [random_condition(rng, conditions) for _ in range(rng.choice([1, 2]))]
        series.append(one)
    grain = rng.choice(RANDOM_GRAINS)
    start = rng.choice(starts) + timedelta(hours=rng.choice([0, 0, 5, 30, 77]))
    length = timedelta(hours=rng.choice([6, 30])) if grain == "hour" else timedelta(days=rng.choice([3, 7, 10, 30]))
    query: dict[str, Any] = {"series": series, "time_grain": grain}
    if rng.random() < 0.3:
        spans = ["36h", "3d"] if grain == "hour" else ["3d", "1w", "36h", "10d", "1m", "1q"]
        query["date_range"] = {"last": rng.choice(spans)}
    else:
        query["date_range"] = {"from": start, "to": start + length}
    width = rng.choice([0, 0, 1, 1, 2])
    if width:
        query["breakdown"] = rng.sample(breakdowns, width)
        if rng.random() < 0.5:
            query["breakdown_limit"] = rng.choice([1, 2, 3])
    now = rng.choice(starts) + timedelta(days=rng.choice([3, 8]), hours=rng.choice([0, 13.5]))
    options = {"timezone": rng.choice(RANDOM_TZS), "week_start": rng.choice(["monday", "sunday"]), "now": now}
    return query, options


EDGE_RANDOM = {
    "events": ["open", "click", "buy"],
    "conditions": [
        ("label", "eq", "a_b"),
        ("label", "neq", "Other"),
        ("label", "in", ["Z", "z", ""]),
        ("label", "not_in", ["é"]),
        ("label", "contains", "b"),
        ("label", "not_contains", "%"),
        ("label", "starts_with", "a"),
        ("label", "is_null", None),
        ("label", "is_not_null", None),
        ("label", "gt", "a"),
        ("label", "between", ["A", "b"]),
        ("n", "gt", 2),
        ("n", "lte", 1),
        ("n", "between", [1, 3]),
        ("n", "is_null", None),
        ("n", "in", [0, 4]),
        ("x", "gte", 20.5),
        ("x", "lt", 50),
        ("x", "neq", 2.5),
        ("x", "not_in", [2.5, 5.0]),
        ("flag", "eq", True),
        ("flag", "is_null", None),
        ("day", "gte", date(2025, 6, 4)),
        ("cohort", "eq", "Z"),
        ("cohort", "is_null", None),
        ("cohort", "neq", "a_b"),
        ("user.cohort", "in", ["z", "é"]),
        ("big", "gt", 1e15),
        ("big", "in", [0.1, -2.5]),
        ("seen", "gte", datetime(2025, 5, 1, 12)),
    ],
    "measures": [
        "events",
        "unique_users",
        "events_per_user",
        "sum:x",
        "avg:n",
        "min:x",
        "max:n",
        "median:x",
        "p90:x",
        "dau",
        "wau",
        "active_users:3d",
        "mau",
        "sum:big",
    ],
    "breakdowns": ["label", "n", "flag", "day", "event", "cohort", "big", "seen", "x", "user.cohort"],
    "starts": [datetime(2025, 6, 1), datetime(2025, 6, 1), datetime(2025, 11, 1), datetime(2025, 3, 8)],
}

GENERATED_RANDOM = {
    "events": ["page_view", "login", "purchase", "payment", "feature_used", "signup"],
    "conditions": [
        ("platform", "eq", "web"),
        ("platform", "neq", "ios"),
        ("campaign", "in", ["brand_search", "newsletter"]),
        ("campaign", "is_null", None),
        ("referrer", "contains", ".co"),
        ("url", "starts_with", "/docs"),
        ("feature", "not_in", ["api"]),
        ("revenue", "gt", 20),
        ("amount", "between", [10, 100]),
        ("country", "eq", "US"),
        ("country", "is_null", None),
        ("user.platform", "neq", "web"),
        ("subscription_type", "in", ["pro", "basic"]),
        ("event_date", "lt", date(2025, 2, 1)),
        ("signup_time", "gte", datetime(2025, 1, 15)),
        ("city", "not_contains", "a"),
    ],
    "measures": [
        "events",
        "unique_users",
        "events_per_user",
        "sum:revenue",
        "avg:amount",
        "min:revenue",
        "max:amount",
        "median:revenue",
        "p75:amount",
        "dau",
        "wau",
        "active_users:2d",
        "mau",
    ],
    "breakdowns": [
        "platform",
        "country",
        "event",
        "campaign",
        "plan",
        "user.platform",
        "account_type",
        "amount",
        "event_date",
    ],
    "starts": [datetime(2025, 1, 1), datetime(2025, 1, 10), datetime(2025, 1, 21, 7), datetime(2025, 2, 10)],
}
