"""The shared segmentation suite on the ``edge`` dataset (awkward values, see ``conftest.edge_tables``);
see ``tests/test_segmentation.py``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.segmentation_cases import EDGE, c, nontrivial, q, s

# awkward values (see conftest.edge_tables), with a naive and a time-zone-aware event_time

EDGE_CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "bounds_half_open": (q(s("any"), rng=EDGE), {}),
    "contains_underscore_is_literal": (q(s("any", "events", c("label", "contains", "_")), grain="total", rng=EDGE), {}),
    "contains_percent_is_literal": (q(s("any", "events", c("label", "contains", "%")), grain="total", rng=EDGE), {}),
    "starts_with_wildcards": (
        q(
            s("any", "events", c("label", "starts_with", "a_")),
            s("any", "events", c("label", "starts_with", "a%")),
            grain="total",
            rng=EDGE,
        ),
        {},
    ),
    "not_contains_underscore": (q(s("any", "events", c("label", "not_contains", "_")), grain="total", rng=EDGE), {}),
    "quote_and_backslash": (
        q(
            s("any", "events", c("label", "eq", "O'Brien")),
            s("any", "events", c("label", "contains", "\\")),
            s("any", "events", c("label", "in", "O'Brien", "back\\slash")),
            grain="total",
            rng=EDGE,
        ),
        {},
    ),
    "string_order_is_code_point": (
        q(
            s("any", "events", c("label", "gt", "a")),
            s("any", "events", c("label", "lt", "Z")),
            s("any", "events", c("label", "between", "Z", "z")),
            grain="total",
            rng=EDGE,
        ),
        {},
    ),
    "breakdown_sorted_by_code_point": (q(s("any"), grain="total", rng=EDGE, breakdown=["label"]), {}),
    "limit_ties_by_code_point": (
        q(s("any", "unique_users"), grain="total", rng=EDGE, breakdown=["label"], breakdown_limit=4),
        {},
    ),
    "limit_with_a_real_other_value": (
        q(s("any", "events"), grain="week", rng=EDGE, breakdown=["cohort"], breakdown_limit=2),
        {},
    ),
    "null_user_ids": (q(s("any", "unique_users"), s("any", "events_per_user"), s("any", "wau"), rng=EDGE), {}),
    "int_property_measures": (
        q(s("any", "sum:n"), s("any", "avg:n"), s("any", "median:n"), grain="week", rng=EDGE),
        {},
    ),
    "float_in_int_mix": (q(s("any", "events", c("x", "in", 5, 6.25, 7.5)), grain="total", rng=EDGE), {}),
    "bool_eq_false": (q(s("any", "events", c("flag", "eq", False)), grain="total", rng=EDGE), {}),
    "bool_neq_true_skips_null": (q(s("any", "events", c("flag", "neq", True)), grain="total", rng=EDGE), {}),
    "bool_is_null_breakdown": (q(s("any", "events"), grain="total", rng=EDGE, breakdown=["flag"]), {}),
    "date_eq_string": (q(s("any", "events", c("day", "eq", "2025-06-03")), grain="total", rng=EDGE), {}),
    "date_lt": (q(s("any", "events", c("day", "lt", date(2025, 6, 4))), rng=EDGE), {}),
    "date_breakdown": (q(s("buy", "unique_users"), grain="total", rng=EDGE, breakdown=["day"]), {}),
    "int_breakdown_with_nulls": (q(s("any", "sum:x"), grain="total", rng=EDGE, breakdown=["n"]), {}),
    "user_cohort_unicode": (
        q(
            s("any", "unique_users", c("cohort", "in", "é", "Z")),
            s("any", "events", c("cohort", "is_null")),
            rng=EDGE,
        ),
        {},
    ),
    "rolling_lookback_only_group": (q(s("open", "wau"), rng=EDGE, breakdown=["label"]), {}),
    "total_relative_non_midnight": (
        q(s("any", "unique_users"), grain="total", rng={"last": "3d"}),
        {"now": datetime(2025, 6, 8, 13, 45)},
    ),
    "relative_hours_tokyo": (
        q(s("any"), grain="hour", rng={"last": "20h"}),
        {"now": datetime(2025, 6, 5, 9, 0, tzinfo=UTC), "timezone": "Asia/Tokyo"},
    ),
    "percentiles_extreme": (q(s("any", "p1:x"), s("any", "p99:x"), s("buy", "median:x"), grain="week", rng=EDGE), {}),
    "breakdown_awkward_floats": (q(s("any"), grain="total", rng=EDGE, breakdown=["big"]), {}),
    "filter_awkward_floats": (
        q(
            s("any", "events", c("big", "eq", 0.30000000000000004)),
            s("any", "events", c("big", "in", 1e16, 1e-05)),
            s("any", "sum:big", c("big", "lt", 1e15)),
            grain="total",
            rng=EDGE,
        ),
        {},
    ),
    "breakdown_timestamp_fractions": (q(s("buy"), grain="total", rng=EDGE, breakdown=["seen"]), {}),
    "filter_timestamp_property": (
        q(
            s("any", "events", c("seen", "gte", datetime(2025, 5, 1, 12))),
            s("any", "events", c("seen", "lt", "2025-05-01 06:30:00")),
            grain="week",
            rng=EDGE,
        ),
        {},
    ),
    "empty_needle": (
        q(
            s("any", "events", c("label", "contains", "")),
            s("any", "events", c("label", "starts_with", "")),
            s("any", "events", c("label", "not_contains", "")),
            grain="total",
            rng=EDGE,
        ),
        {},
    ),
    "ny_repeated_hour": (
        q(s("click"), grain="hour", rng={"from": datetime(2025, 11, 2), "to": datetime(2025, 11, 2, 4)}),
        {"timezone": "America/New_York"},
    ),
    "ny_repeated_hour_day": (
        q(s("click", "unique_users"), rng={"from": date(2025, 11, 1), "to": date(2025, 11, 4)}),
        {"timezone": "America/New_York"},
    ),
    "ny_skipped_hour": (
        q(s("click"), grain="hour", rng={"from": datetime(2025, 3, 9), "to": datetime(2025, 3, 9, 5)}),
        {"timezone": "America/New_York"},
    ),
    "ny_relative_naive_now": (
        q(s("any"), grain="hour", rng={"last": "6h"}),
        {"now": datetime(2025, 11, 2, 3, 0), "timezone": "America/New_York"},
    ),
    "tokyo_now_for_ny_project": (
        q(s("any"), rng={"last": "2d"}),
        {"now": datetime(2025, 6, 6, 9, tzinfo=ZoneInfo("Asia/Tokyo")), "timezone": "America/New_York"},
    ),
}

# Known engine bugs, reported with a reproduction; the case fails until fixed (strict xfail).
EDGE_KNOWN_BUGS = {}


@pytest.mark.parametrize("case", list(EDGE_CASES))
def test_edge(edge, case, request):
    reason = EDGE_KNOWN_BUGS.get((edge.backend, case))
    if reason:
        request.applymarker(pytest.mark.xfail(reason=reason, strict=True))
    query, options = EDGE_CASES[case]
    nontrivial(edge.check(query, **options))


def test_edge_relative_hours_across_dst(subscriptions):
    # {last: 24h} ending 2021-03-14 12:00 in New York: the range is 24 local (wall-clock) hours,
    # 23 real ones, as for every relative unit (naive local arithmetic)
    subscriptions.check(
        q(s("any"), grain="hour", rng={"last": "24h"}),
        now=datetime(2021, 3, 14, 16, tzinfo=UTC),
        timezone="America/New_York",
    )
