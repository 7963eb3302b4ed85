"""Retention on every live engine against the plain-Python reference (tests/oracle_retention.py):
first-time and recurring cohorts, "on" and "on or after", hour/day/week/month, a range off the
buckets, periods and cohorts cut by ``now``, breakdowns by user properties (top-N + Other) and by
segment, segments, filters, combined events, a time zone with Sunday weeks; fixed-seed random
queries; the SQL to paste; bad input. Spark (slow: one JVM) runs a few of the cases.
Hand-made edge cases (DST, returns on bucket edges, recurring starts) are in test_retention_edges.py."""

from __future__ import annotations

import random
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import segwise
from tests.conftest import skip_declared_gaps
from tests.oracle_retention import retention_oracle

WEEKS = {"from": date(2025, 1, 6), "to": date(2025, 2, 3)}
NOW = datetime(2025, 2, 20)
SPARK_CASES = {"weekly sign-ups", "recurring daily purchases, cut by now", "by country, top 3"}


def q(start: Any = "signup", *, grain: str = "week", rng: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    spec = {"start": start, **extra.pop("spec", {})}
    return {"retention": spec, "date_range": rng or WEEKS, "time_grain": grain, **extra}


CASES: dict[str, tuple[dict[str, Any], datetime, dict[str, Any]]] = {
    "weekly sign-ups": (q(spec={"return": {"event": "any"}, "periods": 4}), NOW, {}),
    "weekly sign-ups, on or after": (q(spec={"return": "login", "periods": 5, "cumulative": True}), NOW, {}),
    "recurring daily purchases, cut by now": (
        q(
            "purchase",
            grain="day",
            rng={"from": date(2025, 1, 20), "to": date(2025, 2, 3)},
            spec={"start_mode": "recurring", "periods": 7, "return": "any"},
        ),
        datetime(2025, 1, 30, 12),
        {},
    ),
    "returning buyers, daily, cut by now": (  # start = return: the self-join of numbered buckets
        q(
            "purchase",
            grain="day",
            rng={"from": date(2025, 1, 13), "to": date(2025, 2, 3)},
            spec={"start_mode": "recurring", "periods": 6},
        ),
        datetime(2025, 1, 30, 12),
        {},
    ),
    "recurring logins, range off the buckets": (
        q(
            "login",
            rng={"from": date(2025, 1, 8), "to": date(2025, 2, 12)},
            spec={"start_mode": "recurring", "periods": 3},
        ),
        NOW,
        {},
    ),
    "recurring weekly logins, on or after": (
        q("login", spec={"start_mode": "recurring", "cumulative": True, "periods": 3}),
        NOW,
        {},
    ),
    "monthly": (
        q(grain="month", rng={"from": date(2025, 1, 1), "to": date(2025, 3, 1)}, spec={"return": "page_view"}),
        datetime(2025, 3, 2),
        {},
    ),
    "hourly": (
        q(
            "login",
            grain="hour",
            rng={"from": datetime(2025, 1, 20, 8), "to": datetime(2025, 1, 20, 20)},
            spec={"start_mode": "recurring", "periods": 6, "return": "any"},
        ),
        datetime(2025, 1, 21),
        {},
    ),
    "range off the buckets": (
        q(rng={"from": date(2025, 1, 8), "to": date(2025, 2, 12)}, spec={"return": "any"}),
        NOW,
        {},
    ),
    "by country, top 3": (q(spec={"return": "any"}, breakdown=["country"], breakdown_limit=3), NOW, {}),
    "by two user properties": (
        q("login", spec={"start_mode": "recurring", "periods": 2}, breakdown=["license_type", "user.platform"]),
        NOW,
        {},
    ),
    "filtered start, combined return": (
        q(
            {"event": "page_view", "where": [{"property": "platform", "op": "eq", "value": "web"}]},
            spec={"start_mode": "recurring", "return": {"event": {"any_of": ["login", {"event": "purchase"}]}}},
        ),
        NOW,
        {},
    ),
    "segment restricts": (q(spec={"return": "any"}, segment={"did": {"event": "purchase"}}), NOW, {}),
    "segment splits": (
        q("login", spec={"start_mode": "recurring"}, segment={"did": {"event": "purchase"}}, breakdown=["segment"]),
        NOW,
        {},
    ),
    "sunday weeks in Kolkata": (
        q(spec={"return": "any"}),
        NOW,
        {"timezone": "Asia/Kolkata", "week_start": "sunday"},
    ),
    "range after now": (q(spec={"return": "any"}), datetime(2025, 1, 2), {}),
}


def engine_rows(table: Any, timezone: str) -> list[dict[str, Any]]:
    """An engine's answer with cohorts as naive local times (how the reference writes them)."""
    rows = table.to_pylist()
    for row in rows:
        if row["cohort"] is not None:
            row["cohort"] = row["cohort"].astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    return rows


def check(
    dataset: Any,
    query: dict[str, Any],
    now: datetime,
    options: dict[str, Any],
    project: segwise.Project | None = None,
    **reference: Any,
) -> list[dict[str, Any]]:
    """Run ``query`` on the engine and the reference; assert the same answer (types, order,
    values; rates to 1e-12); return the reference's rows. ``project`` (default the dataset's) and
    ``reference`` (the oracle's ``unit_of``, ``cohorts``, ``categories``) for units and cohorts."""
    timezone = options.get("timezone", "UTC")
    project = project or dataset.project(timezone, options.get("week_start", "monday"))
    skip_declared_gaps(project, query, dataset.backend, now)
    table = segwise.run(query, project, now=now)
    breakdown = query.get("breakdown", [])
    assert table.column_names == ["cohort", *breakdown, "period", "count", "cohort_size", "rate"]
    types = [str(table.schema.field(n).type) for n in ("period", "count", "cohort_size", "rate")]
    assert types == ["int64", "int64", "int64", "double"]
    assert str(table.schema.field("cohort").type) == f"timestamp[us, tz={timezone}]"
    expected = retention_oracle(
        query,
        dataset.events.to_pylist(),
        None if dataset.users is None else dataset.users.to_pylist(),
        now=now,
        event_name_col=dataset.event_name,
        **options,
        **reference,
    )
    got = engine_rows(table, timezone)
    assert len(got) == len(expected), (len(got), len(expected))
    for i, (g, w) in enumerate(zip(got, expected, strict=True)):
        g_rate, w_rate = g.pop("rate"), w["rate"]
        assert g == {k: v for k, v in w.items() if k != "rate"}, (i, g, w)
        assert (g_rate is None and w_rate is None) or abs(g_rate - w_rate) < 1e-12, (i, g_rate, w_rate)
    return expected


@pytest.mark.parametrize("name", list(CASES))
def test_retention_equals_the_oracle(generated: Any, name: str) -> None:
    if generated.backend == "spark" and name not in SPARK_CASES:
        pytest.skip("Spark runs a few of the cases (one slow JVM)")
    query, now, options = CASES[name]
    expected = check(generated, query, now, options)
    if name == "range after now":
        assert expected == []
        return
    returned = [r for r in expected if r["cohort"] is not None and r["period"] >= 1 and r["count"]]
    assert returned and any(r["count"] < r["cohort_size"] for r in returned), "a case that checks little"


def _random_query(rng: random.Random) -> tuple[dict[str, Any], datetime]:
    grain = rng.choice(["day", "week", "week", "month"])
    first = date(2025, 1, rng.randint(1, 20))
    length = {"day": rng.randint(3, 15), "week": rng.randint(14, 40), "month": 45}[grain]
    to = date.fromordinal(first.toordinal() + length)
    events = ["signup", "login", "page_view", "purchase", "feature_used"]
    start = rng.choice(events)
    spec: dict[str, Any] = {
        "start": start,
        "start_mode": "first_time" if start == "signup" or rng.random() < 0.3 else "recurring",
        "periods": rng.randint(1, 10),
        "cumulative": rng.random() < 0.5,
    }
    if rng.random() < 0.7:
        spec["return"] = rng.choice([*events, "any"])
    query: dict[str, Any] = {"retention": spec, "date_range": {"from": first, "to": to}, "time_grain": grain}
    if rng.random() < 0.4:
        query["breakdown"] = [rng.choice(["country", "account_type", "acquisition_channel"])]
        if rng.random() < 0.5:
            query["breakdown_limit"] = rng.randint(1, 3)
    now = datetime.fromordinal(to.toordinal() + rng.randint(-5, 40)).replace(hour=rng.choice([0, 13]))
    return query, now


RANDOM = [_random_query(random.Random(seed)) for seed in range(12)]


@pytest.mark.parametrize("seed", range(len(RANDOM)))
def test_random_retention_queries(generated: Any, seed: int) -> None:
    if generated.backend == "spark" and seed >= 2:
        pytest.skip("Spark runs two of the random queries (one slow JVM)")
    query, now = RANDOM[seed]
    check(generated, query, now, {})


def test_random_queries_are_not_trivial() -> None:
    modes = {(q["retention"]["start_mode"], q["retention"]["cumulative"]) for q, _now in RANDOM}
    assert len(modes) == 4 and {q["time_grain"] for q, _now in RANDOM} >= {"day", "week", "month"}
    assert any("breakdown_limit" in q for q, _now in RANDOM)


@pytest.mark.parametrize(
    ("query", "message", "where"),
    [
        (q(time_grain="quarter"), "use hour, day, week or month", "query"),
        (q(spec={"periods": 0}), "greater than or equal to 1", "query"),
        (q(spec={"periods": 401}), "less than or equal to 400", "query"),
        (q(grain="month", spec={"windows": "rolling"}), "use time_grain hour, day (24 hours) or week", "query"),
        (q("any"), "first event of any kind", "query"),
        (q(cumulative=True), "inside `retention:`", "query"),
        (q("no_such_event"), "no_such_event", "retention > start"),
        (q(spec={"return": "nope"}), "nope", "retention > return"),
        (q(breakdown=["event"]), "not by the event's name", "breakdown[0]"),
        (q(compare="previous_period"), "does not take it", "query"),
        (q(grain="hour", rng={"from": date(2024, 1, 1), "to": date(2025, 3, 1)}), "too many", "retention > periods"),
    ],
)
def test_bad_retention_queries_are_refused(generated: Any, query: dict[str, Any], message: str, where: str) -> None:
    if generated.backend != "duckdb":
        pytest.skip("validation; one engine is enough")
    with pytest.raises(segwise.SegwiseError) as info:
        segwise.run(query, generated.project("UTC", "monday"), now=NOW)
    assert message in info.value.message
    assert (info.value.where or "").startswith(where)


@pytest.mark.parametrize("cumulative", [False, True])
def test_events_in_several_tables(multi: Any, cumulative: bool) -> None:
    """Start events in one table (a time-zone-aware column), returns in two others (user id
    ``buyer``, an event-name column ``kind``): one scan over a UNION ALL of the pruned tables."""
    if multi.backend == "spark":
        pytest.skip("Spark runs a few of the cases (one slow JVM)")
    spec = {"return": {"event": {"any_of": ["purchase", "push_opened"]}}, "cumulative": cumulative}
    expected = check(multi, q(spec=spec, breakdown=["country"]), NOW, {})
    assert any(r["period"] >= 1 and r["count"] for r in expected)
