"""The shared segmentation suite on the real samples: ``simple`` (simple.csv) and ``subscriptions``
(subscriptions.csv, across daylight-saving changes); see ``tests/test_segmentation.py``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from tests.segmentation_cases import SIMPLE_DAY, SUBS, c, nontrivial, q, s

# ---------------------------------------------------------------------------------------------------
# simple.csv: real data with empty strings, a dashed column name and 19-digit integers

SIMPLE: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "hour_unique_users": (q(s("view", "unique_users"), grain="hour", rng=SIMPLE_DAY), {}),
    "brand_eq_empty": (q(s("any", "events", c("brand", "eq", "")), grain="hour", rng=SIMPLE_DAY), {}),
    "brand_neq_empty": (q(s("any", "events", c("brand", "neq", "")), grain="hour", rng=SIMPLE_DAY), {}),
    "category_code_eq_empty": (q(s("any", "events", c("category_code", "eq", "")), grain="total", rng=SIMPLE_DAY), {}),
    "category_code_is_not_null": (
        q(s("any", "events", c("category_code", "is_not_null")), grain="total", rng=SIMPLE_DAY),
        {},
    ),
    "category_code_contains": (
        q(s("any", "events", c("category_code", "contains", "appliances.")), grain="total", rng=SIMPLE_DAY),
        {},
    ),
    "category_id_19_digits": (
        q(s("any", "events", c("category_id", "eq", 1487580005754995573)), grain="total", rng=SIMPLE_DAY),
        {},
    ),
    "category_id_in": (
        q(
            s("any", "events", c("category_id", "in", 1487580005754995573, 1602943681873052386)),
            grain="hour",
            rng=SIMPLE_DAY,
        ),
        {},
    ),
    "product_id_eq": (q(s("any", "events", c("product-id", "eq", "5809910")), grain="total", rng=SIMPLE_DAY), {}),
    "product_id_starts_with": (
        q(s("any", "unique_users", c("product-id", "starts_with", "58")), grain="hour", rng=SIMPLE_DAY),
        {},
    ),
    "price_between": (q(s("cart", "events", c("price", "between", 2, 5.24)), grain="hour", rng=SIMPLE_DAY), {}),
    "price_gt_sum": (q(s("purchase", "sum:price", c("price", "gt", 10)), grain="hour", rng=SIMPLE_DAY), {}),
    "median_price": (q(s("view", "median:price"), grain="hour", rng=SIMPLE_DAY), {}),
    "p75_price_by_event": (q(s("any", "p75:price"), grain="total", rng=SIMPLE_DAY, breakdown=["event"]), {}),
    "brand_contains": (q(s("any", "events", c("brand", "contains", "ru")), grain="total", rng=SIMPLE_DAY), {}),
    "brand_not_contains": (q(s("any", "events", c("brand", "not_contains", "a")), grain="hour", rng=SIMPLE_DAY), {}),
    "user_tier_is_null": (q(s("any", "unique_users", c("tier", "is_null")), grain="hour", rng=SIMPLE_DAY), {}),
    "user_tier_neq": (q(s("any", "unique_users", c("tier", "neq", "gold")), grain="hour", rng=SIMPLE_DAY), {}),
    "user_score_gt": (q(s("cart", "events", c("score", "gt", 50)), grain="hour", rng=SIMPLE_DAY), {}),
    "user_vip_eq_true": (q(s("cart", "events", c("vip", "eq", True)), grain="hour", rng=SIMPLE_DAY), {}),
    "avg_user_score": (q(s("purchase", "avg:score"), grain="total", rng=SIMPLE_DAY), {}),
    "breakdown_brand_with_empty": (
        q(s("purchase", "unique_users"), grain="total", rng=SIMPLE_DAY, breakdown=["brand"]),
        {},
    ),
    "breakdown_price_floats": (q(s("purchase"), grain="total", rng=SIMPLE_DAY, breakdown=["price"]), {}),
    "breakdown_category_id": (
        q(s("cart", "events", c("brand", "eq", "runail")), grain="total", rng=SIMPLE_DAY, breakdown=["category_id"]),
        {},
    ),
    "breakdown_product_id": (
        q(s("purchase", "events", c("brand", "eq", "")), grain="total", rng=SIMPLE_DAY, breakdown=["product-id"]),
        {},
    ),
    "breakdown_user_tier_vip": (
        q(s("view", "unique_users"), grain="hour", rng=SIMPLE_DAY, breakdown=["tier", "vip"]),
        {},
    ),
    "limit_brand_unique_users": (
        q(s("any", "unique_users"), grain="hour", rng=SIMPLE_DAY, breakdown=["brand"], breakdown_limit=5),
        {},
    ),
    "limit_brand_sum_price": (
        q(s("purchase", "sum:price"), grain="total", rng=SIMPLE_DAY, breakdown=["brand"], breakdown_limit=3),
        {},
    ),
    "funnel_series": (
        q(
            s("view", "unique_users"),
            s("cart", "unique_users"),
            s("purchase", "unique_users"),
            grain="hour",
            rng=SIMPLE_DAY,
        ),
        {},
    ),
    "ny_previous_day": (
        q(s("any"), rng={"from": date(2019, 12, 31), "to": date(2020, 1, 2)}),
        {"timezone": "America/New_York"},
    ),
    "kolkata_hour": (q(s("any", "unique_users"), grain="hour", rng=SIMPLE_DAY), {"timezone": "Asia/Kolkata"}),
    "relative_3h": (q(s("view"), grain="hour", rng={"last": "3h"}), {"now": datetime(2020, 1, 1, 4, 10)}),
    "dau_hour": (q(s("cart", "dau"), grain="hour", rng=SIMPLE_DAY, breakdown=["event"]), {}),
    "median_user_score": (q(s("view", "median:score"), grain="hour", rng=SIMPLE_DAY), {}),
    "sum_min_user_score": (q(s("cart", "sum:score"), s("cart", "min:score"), grain="hour", rng=SIMPLE_DAY), {}),
    "float_value_on_int_property": (q(s("any", "events", c("score", "gt", 49.5)), grain="total", rng=SIMPLE_DAY), {}),
}


@pytest.mark.parametrize("case", list(SIMPLE))
def test_simple(simple, case):
    query, options = SIMPLE[case]
    nontrivial(simple.check(query, **options))


def test_simple_category_code_is_null_matches_nothing(simple):
    # the CSV has empty strings, not nulls: is_null matches no row, eq '' matches most of them
    rows = simple.check(q(s("any", "events", c("category_code", "is_null")), grain="total", rng=SIMPLE_DAY))
    assert [r["value"] for r in rows] == [0]


# ---------------------------------------------------------------------------------------------------
# subscriptions.csv: string user ids over five months, across the March DST change; every event is
# at midnight UTC on the 2nd or 5th of a month

SUBSCRIPTIONS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "month_events": (q(s("renewed_subscription"), grain="month", rng=SUBS), {}),
    "week_unique_users_by_event": (q(s("any", "unique_users"), grain="week", rng=SUBS, breakdown=["event"]), {}),
    "ny_day_across_dst": (
        q(s("any"), rng={"from": date(2021, 3, 1), "to": date(2021, 4, 1)}),
        {"timezone": "America/New_York"},
    ),
    "ny_hour_spring_forward": (
        q(s("any"), grain="hour", rng={"from": datetime(2021, 3, 4, 12), "to": datetime(2021, 3, 15)}),
        {"timezone": "America/New_York"},
    ),
    "ny_week_sunday": (
        q(s("new_subscription", "unique_users"), grain="week", rng=SUBS),
        {"timezone": "America/New_York", "week_start": "sunday"},
    ),
    "mau_week": (q(s("any", "mau"), grain="week", rng={"from": date(2021, 2, 1), "to": date(2021, 4, 1)}), {}),
    "wau_day_ny": (
        q(s("renewed_subscription", "wau"), rng={"from": date(2021, 3, 1), "to": date(2021, 3, 31)}),
        {"timezone": "America/New_York"},
    ),
    "two_series_quarter": (
        q(s("new_subscription"), s("renewed_subscription", "unique_users"), grain="quarter", rng=SUBS),
        {},
    ),
}


@pytest.mark.parametrize("case", list(SUBSCRIPTIONS))
def test_subscriptions(subscriptions, case):
    query, options = SUBSCRIPTIONS[case]
    nontrivial(subscriptions.check(query, **options))


def test_day_starting_in_a_dst_gap(subscriptions):
    # Beirut skips 2021-03-28 00:00..01:00; the day is still a bucket, starting at 01:00 local
    nontrivial(
        subscriptions.check(
            q(s("any"), rng={"from": date(2021, 3, 20), "to": date(2021, 4, 6)}), timezone="Asia/Beirut"
        )
    )
    nontrivial(
        subscriptions.check(
            q(s("any", "wau"), grain="week", rng={"from": date(2021, 3, 1), "to": date(2021, 4, 30)}),
            timezone="Asia/Beirut",
        )
    )


def test_hour_half_in_a_dst_gap(subscriptions):
    # Lord Howe Island jumps 02:00 -> 02:30 on 2021-10-03: the 02:00 hour still has 02:30..03:00
    subscriptions.check(
        q(s("any"), grain="hour", rng={"from": datetime(2021, 10, 3, 0), "to": datetime(2021, 10, 3, 5)}),
        timezone="Australia/Lord_Howe",
    )


def test_fall_back_hour_buckets(subscriptions):
    # 2021-11-07 01:00 happens twice in New York; the bucket list is one naive local hour per step
    rows = subscriptions.check(
        q(s("any"), grain="hour", rng={"from": date(2021, 11, 7), "to": datetime(2021, 11, 7, 4)}),
        timezone="America/New_York",
    )
    assert len(rows) == 4
