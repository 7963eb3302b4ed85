"""The advanced series on the real samples (subscriptions.csv, simple.csv), the edge dataset and a
small hand-made dataset of ties around New York's fall-back hour; see ``tests/test_advanced.py``."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from tests.advanced_support import SUBS_NOW, check, did, f, member
from tests.segmentation_cases import EDGE, SIMPLE_DAY, SUBS, c, q, s

# ---------------------------------------------------------------------------------------------------
# real samples: subscriptions.csv and simple.csv

SUBSCRIPTIONS = {
    # every new_subscription is on 2021-01-02; renewals on the 5th of each month, fewer each month
    "first_renewal_ever": (
        q(s("renewed_subscription", "unique_users", occurrence="first"), grain="month", rng=SUBS),
        {},
    ),
    "last_renewal_ever_churn_month": (
        q(s("renewed_subscription", "unique_users", occurrence="last"), grain="month", rng=SUBS),
        {},
    ),
    "first_renewal_range_window": (
        q(
            s("renewed_subscription", "unique_users", occurrence="first", occurrence_scope="range"),
            grain="week",
            rng={"from": date(2021, 3, 1), "to": date(2021, 5, 1)},
        ),
        {},
    ),
    "last_any_breakdown_event": (
        q(s("any", "events", occurrence="last"), grain="month", rng=SUBS, breakdown=["event"]),
        {},
    ),
    "segment_renewed_in_february_not_may": (
        q(
            s("renewed_subscription", "unique_users"),
            grain="month",
            rng=SUBS,
            segment={
                "did": did("renewed_subscription", window={"from": "2021-02-01", "to": "2021-03-01"}),
                "did_not": did("renewed_subscription", window={"from": "2021-05-01", "to": "2021-06-01"}),
            },
        ),
        {},
    ),
    "segment_did_not_renew_last_30d": (
        q(
            s("any", "unique_users"),
            grain="month",
            rng=SUBS,
            segment={"did_not": did("renewed_subscription", window={"last": "30d"})},
        ),
        {"now": SUBS_NOW},
    ),
    "segment_breakdown": (
        q(
            s("renewed_subscription", "events"),
            grain="month",
            rng=SUBS,
            breakdown=["segment"],
            segment={"did": did("renewed_subscription", window={"from": "2021-03-01", "to": "2021-04-01"})},
        ),
        {},
    ),
    "frequency_quarter": (q(s("renewed_subscription", "frequency"), grain="quarter", rng=SUBS), {}),
    "renewals_per_new": (
        q(
            s("new_subscription", label="new"),
            s("renewed_subscription", label="renewed"),
            grain="month",
            rng=SUBS,
            formula="renewed / new",
        ),
        {},
    ),
    "compare_month": (
        q(
            s("any", "unique_users"),
            grain="week",
            rng={"from": date(2021, 4, 1), "to": date(2021, 5, 1)},
            compare="previous_period",
        ),
        {},
    ),
    "user_max_events": (q(s("any", "user_max:events"), grain="quarter", rng=SUBS), {}),
    "compare_ny_across_dst": (
        q(s("any", "unique_users"), rng={"from": date(2021, 3, 1), "to": date(2021, 4, 1)}, compare="previous_period"),
        {"timezone": "America/New_York"},
    ),
    "last_renewal_ny_dst": (
        q(
            s("renewed_subscription", "unique_users", occurrence="last"),
            rng={"from": date(2021, 3, 1), "to": date(2021, 4, 1)},
        ),
        {"timezone": "America/New_York"},
    ),
}


@pytest.mark.parametrize("case", list(SUBSCRIPTIONS))
def test_subscriptions_advanced(subscriptions, case, request):
    check(subscriptions, case, SUBSCRIPTIONS, request)


SIMPLE = {
    "combined_funnel_events": (
        q(
            s({"any_of": ["view", "cart", "purchase"]}, "unique_users"),
            grain="hour",
            rng=SIMPLE_DAY,
            breakdown=["event"],
        ),
        {},
    ),
    "combined_member_where_brand": (
        q(
            s({"any_of": [member("view", c("brand", "eq", "runail")), member("cart", c("price", "gt", 5))]}, "events"),
            grain="hour",
            rng=SIMPLE_DAY,
        ),
        {},
    ),
    "conversion_purchase_over_view": (
        q(
            s("view", "unique_users", label="viewers"),
            s("purchase", "unique_users", label="buyers"),
            grain="hour",
            rng=SIMPLE_DAY,
            formulas=[f("conversion", "buyers / viewers * 100"), f("not_buying", "viewers - buyers")],
        ),
        {},
    ),
    "conversion_by_brand_limit": (
        q(
            s("view", "unique_users"),
            s("cart", "unique_users"),
            grain="total",
            rng=SIMPLE_DAY,
            breakdown=["brand"],
            breakdown_limit=5,
            formula="B / A * 100",
        ),
        {},
    ),
    "first_cart_range": (
        q(s("cart", "unique_users", occurrence="first", occurrence_scope="range"), grain="hour", rng=SIMPLE_DAY),
        {},
    ),
    "last_view_with_user_property": (
        q(s("view", "events", c("tier", "eq", "gold"), occurrence="last"), grain="hour", rng=SIMPLE_DAY),
        {},
    ),
    "user_avg_sum_price": (q(s("cart", "user_avg:sum:price"), grain="hour", rng=SIMPLE_DAY), {}),
    "user_max_sum_user_score": (
        q(s("view", "user_max:sum:score"), s("view", "user_min:sum:score"), grain="hour", rng=SIMPLE_DAY),
        {},
    ),
    "user_median_events_by_event": (
        q(s("any", "user_median:events"), grain="total", rng=SIMPLE_DAY, breakdown=["event"]),
        {},
    ),
    "frequency_views": (q(s("view", "frequency"), grain="hour", rng=SIMPLE_DAY), {}),
    "segment_buyers_user_where": (
        q(
            s("view", "unique_users"),
            grain="hour",
            rng=SIMPLE_DAY,
            segment={"did": did("cart"), "user_where": [c("tier", "eq", "gold")]},
        ),
        {},
    ),
    "segment_breakdown_vip": (
        q(
            s("any", "events"),
            grain="hour",
            rng=SIMPLE_DAY,
            breakdown=["segment", "event"],
            segment={"user_where": [c("vip", "eq", True)]},
        ),
        {},
    ),
    "compare_hours": (
        q(
            s("view", "unique_users"),
            s("purchase", "sum:price"),
            grain="hour",
            rng={"from": datetime(2020, 1, 1, 2), "to": datetime(2020, 1, 1, 4)},
            compare="previous_period",
        ),
        {},
    ),
}


@pytest.mark.parametrize("case", list(SIMPLE))
def test_simple_advanced(simple, case, request):
    check(simple, case, SIMPLE, request)


# ---------------------------------------------------------------------------------------------------
# the edge dataset: null user ids (every 11th event), users without a users row, awkward labels

EDGE_CASES = {
    "first_null_users_never_count": (q(s("any", "events", occurrence="first"), rng=EDGE, breakdown=["event"]), {}),
    "last_breakdown_label": (
        q(
            s("click", "unique_users", occurrence="last"),
            grain="total",
            rng={"from": date(2025, 6, 1), "to": date(2025, 7, 1)},
            breakdown=["label"],
        ),
        {},
    ),
    "per_user_null_users": (q(s("any", "user_avg:events"), grain="total", rng=EDGE, breakdown=["label"]), {}),
    "per_user_sum_nulls": (q(s("any", "user_max:sum:n"), s("buy", "user_min:sum:x"), rng=EDGE), {}),
    "frequency_null_users": (q(s("any", "frequency"), grain="total", rng=EDGE, breakdown=["flag"]), {}),
    "segment_breakdown_null_users_not_in": (
        q(s("any", "events"), rng=EDGE, breakdown=["segment"], segment={"did": did("buy", c("n", "gte", 2))}),
        {},
    ),
    "segment_did_not_excludes_null_users": (
        q(s("any", "events"), rng=EDGE, segment={"did_not": did("buy", c("n", "gte", 3))}),
        {},
    ),
    "segment_user_where_is_null": (
        # the users table has no row for u6 and a null cohort for u2; events without a user id are
        # in no segment
        q(s("any", "events"), grain="total", rng=EDGE, segment={"user_where": [c("cohort", "is_null")]}),
        {},
    ),
    "segment_user_where_breakdown": (
        q(
            s("any", "events"),
            grain="total",
            rng=EDGE,
            breakdown=["segment"],
            segment={"user_where": [c("cohort", "is_null")]},
        ),
        {},
    ),
    "formula_labels_and_other": (
        q(
            s("open"),
            s("click"),
            grain="total",
            rng=EDGE,
            breakdown=["label"],
            breakdown_limit=4,
            formula="A / (B - 2)",
        ),
        {},
    ),
    "compare_with_look_back": (
        q(s("open", "wau"), rng={"from": date(2025, 6, 5), "to": date(2025, 6, 10)}, compare="previous_period"),
        {},
    ),
}


@pytest.mark.parametrize("case", list(EDGE_CASES))
def test_edge_advanced(edge, case, request):
    check(edge, case, EDGE_CASES, request)


# ---------------------------------------------------------------------------------------------------
# a small hand-made dataset: one user's events around New York's fall-back hour, ties, null ids

TIES = [
    # (user, UTC time, event, plan)
    ("u1", datetime(2025, 11, 2, 6, 10), "view", "later-local-earlier-instant"),  # 01:10 EST, after 01:30 EDT
    ("u1", datetime(2025, 11, 2, 5, 30), "view", "earlier-instant"),  # 01:30 EDT
    ("u1", datetime(2025, 11, 2, 9, 0), "buy", "x"),
    ("u2", datetime(2025, 11, 2, 7, 0), "view", "tie-a"),
    ("u2", datetime(2025, 11, 2, 7, 0), "view", "tie-b"),  # the same instant: both are first
    ("u2", datetime(2025, 11, 3, 7, 0), "view", "tie-c"),
    ("u3", datetime(2025, 11, 1, 23, 0), "view", "before"),
    ("u3", datetime(2025, 11, 2, 12, 0), "view", "during"),
    (None, datetime(2025, 11, 2, 4, 0), "view", "nobody"),
    (None, datetime(2025, 11, 2, 4, 0), "buy", "nobody"),
]


@pytest.fixture(scope="module")
def ties(backend: str, tmp_path_factory: pytest.TempPathFactory):
    import pyarrow as pa

    from tests.conftest import _load

    events = pa.table(
        {
            "user_id": pa.array([r[0] for r in TIES], type=pa.string()),
            "event_time": pa.array([r[1] for r in TIES], type=pa.timestamp("us")),
            "event_name": pa.array([r[2] for r in TIES], type=pa.string()),
            "plan": pa.array([r[3] for r in TIES], type=pa.string()),
        }
    )
    users = pa.table({"user_id": ["u1", "u2"], "tier": ["gold", None]})
    dataset = _load("ties", backend, tmp_path_factory, {"events": events, "users": users}, "event_name")
    yield dataset
    dataset.close()


NOV2 = {"from": date(2025, 11, 2), "to": date(2025, 11, 3)}
TIES_CASES = {
    "first_by_instant_ny": (
        q(s("view", "events", occurrence="first"), grain="total", rng=NOV2, breakdown=["plan"]),
        {"timezone": "America/New_York"},
    ),
    "last_by_instant_ny_hour": (
        q(s("view", "events", occurrence="last", occurrence_scope="range"), grain="hour", rng=NOV2, breakdown=["plan"]),
        {"timezone": "America/New_York"},
    ),
    "first_ties_utc": (q(s("view", "events", occurrence="first"), grain="total", rng=NOV2, breakdown=["plan"]), {}),
    "first_ever_before_range": (
        q(
            s("view", "unique_users", occurrence="first"),
            s("view", "unique_users", occurrence="first", occurrence_scope="range"),
            rng={"from": date(2025, 11, 2), "to": date(2025, 11, 4)},
        ),
        {},
    ),
    "frequency_ties": (q(s("view", "frequency"), grain="total", rng=NOV2), {}),
    "segment_user_where_null_tier": (
        q(
            s("any", "events"),
            grain="total",
            rng=NOV2,
            breakdown=["segment"],
            segment={"user_where": [c("tier", "is_null")]},
        ),
        {},
    ),
    "per_user_with_null_ids": (
        q(s("any", "user_max:events"), s("any", "events"), grain="total", rng=NOV2, breakdown=["event"]),
        {},
    ),
}


@pytest.mark.parametrize("case", list(TIES_CASES))
def test_ties_advanced(ties, case, request):
    check(ties, case, TIES_CASES, request)
