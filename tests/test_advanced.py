"""The advanced series of ``docs/queries.md`` on every live engine, against the reference oracle.

Combined events, first/last occurrence, formulas, per-user measures and frequency, segments,
compare to the previous period and events spread over several tables; each alone and combined
with breakdowns, ``breakdown_limit``, rolling measures and one another. Every case runs on each
backend of ``tests.backends.BACKENDS`` through the fixtures of ``conftest.py``;
``dataset.check`` compares the engine's table with ``tests/oracle.py`` (schema, order, values).

Datasets (see ``conftest.py``): ``generated`` (the demo generator, 2025-01-01..2025-03-02),
``multi`` (the same events in four tables), ``simple`` (simple.csv, 2020-01-01 00:00..04:31 UTC:
view / cart / purchase), ``subscriptions`` (subscriptions.csv, new / renewed subscriptions on the
2nd and 5th of each month of 2021-01..06) and ``edge`` (null user ids, awkward labels).

This module runs the generated data (its cases in ``advanced_cases.py`` and ``advanced_segments.py``),
the several-table dataset and the consistency checks; ``test_advanced_samples.py`` the real samples,
the edge dataset and ties; ``test_advanced_random.py`` the random queries. Shared helpers:
``advanced_support.py``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.advanced_cases import COMBINED, FORMULAS, OCCURRENCE, PER_USER
from tests.advanced_segments import COMPARE, SEGMENTS
from tests.advanced_support import check, did, member
from tests.segmentation_cases import ALL, FEB, WEEK, c, q, s

# ---------------------------------------------------------------------------------------------------
# generated data

GENERATED_ADVANCED = {
    **{f"combined_{k}": v for k, v in COMBINED.items()},
    **{f"occurrence_{k}": v for k, v in OCCURRENCE.items()},
    **{f"formula_{k}": v for k, v in FORMULAS.items()},
    **{f"per_user_{k}": v for k, v in PER_USER.items()},
    **{f"segment_{k}": v for k, v in SEGMENTS.items()},
    **{f"compare_{k}": v for k, v in COMPARE.items()},
}


@pytest.mark.parametrize("case", list(GENERATED_ADVANCED))
def test_generated_advanced(generated, case, request):
    check(generated, case, GENERATED_ADVANCED, request)


# ---------------------------------------------------------------------------------------------------
# events in several tables

MULTI = {
    "combined_wau_breakdown_event_limit": (
        q(
            s({"any_of": ["signup", "purchase", member("login", c("platform", "eq", "web"))]}, "wau"),
            grain="week",
            rng=ALL,
            breakdown=["event"],
            breakdown_limit=2,
        ),
        {},
    ),
    "any_breakdown_event": (q(s("any"), grain="week", breakdown=["event"]), {}),
    "any_unique_users_platform": (q(s("any", "unique_users"), grain="week", breakdown=["platform"]), {}),
    "combined_across_tables": (
        q(
            s(
                {
                    "any_of": [
                        "signup",
                        "purchase",
                        member("push_opened", c("notification_type", "eq", "reminder")),
                        "login",
                    ]
                },
                "unique_users",
            ),
            grain="week",
            breakdown=["event"],
        ),
        {},
    ),
    "any_wau_breakdown_event": (q(s("any", "wau"), grain="week", rng=ALL, breakdown=["event"]), {}),
    "any_mau_day": (q(s("any", "mau"), rng=FEB), {}),
    "revenue_only_in_last_table": (q(s("any", "sum:revenue"), s("purchase", "avg:revenue"), grain="week"), {}),
    "breakdown_by_revenue": (q(s("any"), grain="total", rng=WEEK, breakdown=["revenue"]), {}),
    "condition_on_missing_column": (
        q(s("any", "events", c("event_date", "gte", date(2025, 1, 20))), grain="week", breakdown=["event"]),
        {},
    ),
    "is_null_on_missing_column": (
        q(s("any", "events", c("revenue", "is_null")), grain="week", breakdown=["event"]),
        {},
    ),
    "user_property_breakdown_limit": (
        q(s("any", "unique_users"), grain="week", breakdown=["country"], breakdown_limit=4),
        {},
    ),
    "first_occurrence_any": (
        q(s("any", "unique_users", occurrence="first"), grain="week", rng=ALL, breakdown=["event"]),
        {},
    ),
    "last_occurrence_combined": (
        q(
            s({"any_of": ["purchase", "push_opened"]}, "events", occurrence="last"),
            grain="week",
            rng=ALL,
            breakdown=["event"],
        ),
        {},
    ),
    "segment_did_single_event_table": (
        q(s("login", "unique_users"), grain="week", segment={"did": did("purchase")}),
        {},
    ),
    "segment_breakdown_combined": (
        q(
            s({"any_of": ["signup", "push_sent"]}, "unique_users"),
            grain="week",
            breakdown=["segment"],
            segment={"did_not": did("push_opened")},
        ),
        {},
    ),
    "compare": (q(s("any", "unique_users"), grain="week", rng=FEB, breakdown=["event"], compare="previous_period"), {}),
    "formula_purchases_per_signup": (q(s("signup"), s("purchase"), grain="week", formula="B / A"), {}),
    "per_user_any": (q(s("any", "user_avg:events"), grain="week", breakdown=["event"]), {}),
    "frequency_combined": (q(s({"any_of": ["purchase", "push_opened"]}, "frequency"), grain="month", rng=ALL), {}),
    "ny_hour_aware_and_naive": (
        q(s({"any_of": ["signup", "login"]}), grain="hour", rng={"from": date(2025, 1, 14), "to": date(2025, 1, 16)}),
        {"timezone": "America/New_York"},
    ),
    "combined_member_where_missing_column": (
        # revenue exists only in purchases; the login member reads the activity table
        q(
            s({"any_of": ["login", member("purchase", c("revenue", "gt", 40))]}, "unique_users"),
            grain="week",
            breakdown=["event"],
        ),
        {},
    ),
    "combined_member_user_property": (
        # a member filter on a user property is applied after the users join, across tables
        q(
            s(
                {
                    "any_of": [
                        member("signup", c("country", "eq", "US")),
                        member("purchase", c("revenue", "gt", 30)),
                        member("push_opened", c("account_type", "neq", "personal")),
                    ]
                },
                "events",
            ),
            grain="week",
            rng=ALL,
            breakdown=["event", "platform"],
        ),
        {},
    ),
    "segment_did_with_where_in_other_table": (
        q(
            s("any", "unique_users"),
            grain="week",
            breakdown=["event"],
            segment={"did": did("purchase", c("revenue", "gte", 50)), "did_not": did("push_opened")},
        ),
        {},
    ),
    "kolkata_wau_any": (q(s("any", "wau"), grain="week", rng=FEB, breakdown=["event"]), {"timezone": "Asia/Kolkata"}),
}


@pytest.mark.parametrize("case", list(MULTI))
def test_multi_table(multi, case, request):
    check(multi, case, MULTI, request)


def test_frequency_without_events_has_no_rows(generated):
    rows = generated.check(q(s("purchase", "frequency", c("revenue", "gt", 1e9)), grain="week"))
    assert rows == []


def test_formula_over_empty_series_is_null(generated):
    rows = generated.check(q(s("purchase", "events", c("revenue", "gt", 1e9)), s("purchase"), formula="B / A"))
    formula = [r["value"] for r in rows if r["series"] == "B / A"]
    assert formula and all(v is None for v in formula)


# ---------------------------------------------------------------------------------------------------
# consistency between queries (on the engine alone, independent of the oracle)


def _values(table) -> list[Any]:
    return table.column("value").to_pylist()


def test_previous_period_equals_the_previous_range_run_alone(generated):
    import segwise

    project = generated.project()
    base = q(
        s("login", "unique_users"),
        s("purchase", "sum:revenue"),
        grain="week",
        rng={"from": "2025-02-03", "to": "2025-02-24"},
    )
    compared = segwise.run({**base, "compare": "previous_period"}, project).to_pylist()
    alone = segwise.run({**base, "date_range": {"from": "2025-01-13", "to": "2025-02-03"}}, project).to_pylist()
    for label in ("A", "B"):
        previous = [r["value"] for r in compared if r["series"] == f"{label} (previous)"]
        assert previous == [r["value"] for r in alone if r["series"] == label]


def test_segment_breakdown_splits_the_unsegmented_answer(generated):
    import segwise

    project = generated.project()
    base = q(s("page_view", "events"), grain="week")
    whole = segwise.run(base, project).to_pylist()
    split = segwise.run({**base, "breakdown": ["segment"], "segment": {"did": did("purchase")}}, project).to_pylist()
    inside = segwise.run({**base, "segment": {"did": did("purchase")}}, project).to_pylist()
    outside = segwise.run({**base, "segment": {"did_not": did("purchase")}}, project).to_pylist()
    by_bucket: dict[Any, int] = {}
    for r in split:
        by_bucket[r["bucket"]] = by_bucket.get(r["bucket"], 0) + r["value"]
    assert [by_bucket[r["bucket"]] for r in whole] == [r["value"] for r in whole]
    assert [r["value"] for r in split if r["segment"] == "in"] == [r["value"] for r in inside]
    assert [r["value"] for r in split if r["segment"] == "not in"] == [r["value"] for r in outside]


def test_frequency_sums_to_unique_users(generated):
    import segwise

    project = generated.project()
    freq = segwise.run(q(s("login", "frequency"), grain="week"), project).to_pylist()
    users = segwise.run(q(s("login", "unique_users"), grain="week"), project).to_pylist()
    per_bucket: dict[Any, int] = {}
    for r in freq:
        per_bucket[r["bucket"]] = per_bucket.get(r["bucket"], 0) + r["value"]
    assert [per_bucket.get(r["bucket"], 0) for r in users] == [r["value"] for r in users]
