"""The oracle checked against answers worked out by hand on a dozen events.

Every expected value below was computed by reading the table in ``EVENTS`` (see the comments),
not by running any code, so that the oracle the shared suite trusts is itself trustworthy.

2025-01-01 is a Wednesday; 2025-01-05 a Sunday; 2025-01-06 a Monday.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from tests.oracle import (
    breakdown_text,
    date_range,
    evaluate_formula,
    merge_event_tables,
    oracle,
    oracle_tables,
    percentile_cont,
)

D = datetime

# fmt: off
#   id    event       user   event_time (UTC)         price  brand
ROWS = [
    ("e1",  "view",     "u1", D(2025, 1, 1, 10, 0),   10.0, "acme"),
    ("e2",  "view",     "u2", D(2025, 1, 1, 12, 0),   20.0, "bolt"),
    ("e3",  "cart",     "u1", D(2025, 1, 2, 9, 0),    30.0, "acme"),
    ("e4",  "view",     "u3", D(2025, 1, 2, 3, 0),    None, None),
    ("e5",  "purchase", "u1", D(2025, 1, 3, 15, 0),   40.0, "Acme"),
    ("e6",  "view",     "u4", D(2025, 1, 3, 23, 30),  5.0,  ""),
    ("e7",  "cart",     "u2", D(2025, 1, 4, 0, 30),   15.0, "bolt"),
    ("e8",  "view",     "u1", D(2025, 1, 5, 8, 0),    25.0, "crest"),
    ("e9",  "purchase", "u2", D(2025, 1, 5, 20, 0),   60.0, "bolt"),
    ("e10", "view",     "u3", D(2025, 1, 6, 11, 0),   12.5, "acme"),
    ("e11", "view",     "u1", D(2024, 12, 30, 10, 0), 1.0,  "acme"),   # before the usual range
    ("e12", "view",     "u2", D(2025, 1, 8, 0, 0),    2.0,  "acme"),   # exactly the usual `to`
    ("e13", "view",     "u2", D(2024, 12, 26, 12, 0), 2.0,  "acme"),   # far before
]
# fmt: on
EVENTS = [
    {"id": i, "event_name": n, "user_id": u, "event_time": t, "price": p, "brand": b} for i, n, u, t, p, b in ROWS
]
# u4 has no row in the users table: all its user properties are null.
USERS = [
    {"user_id": "u1", "country": "DE", "vip": True},
    {"user_id": "u2", "country": "US", "vip": False},
    {"user_id": "u3", "country": None, "vip": False},
]
WEEK = {"from": date(2025, 1, 1), "to": date(2025, 1, 8)}  # e1..e10 are inside; e11..e13 are not


def run(query: dict, **kwargs) -> list[tuple]:
    """The oracle's rows as tuples: (bucket, *breakdown values, series, value)."""
    return [tuple(row.values()) for row in oracle(query, EVENTS, USERS, **kwargs)]


def values(query: dict, **kwargs) -> list:
    return [row["value"] for row in oracle(query, EVENTS, USERS, **kwargs)]


def total(series: dict, **query) -> int | float | None:
    [row] = oracle({"series": [series], "date_range": WEEK, "time_grain": "total", **query}, EVENTS, USERS)
    return row["value"]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- ranges and buckets --------------------------------------------------------------------------


def test_daily_events_fill_zero_and_bounds():
    # in range: e1 e2 | e3 e4 | e5 e6 | e7 | e8 e9 | e10 | (none on the 7th);
    # e11 is before `from`, e12 is exactly `to` (half-open) -> excluded.
    rows = run({"series": [{"event": "any"}], "date_range": WEEK, "time_grain": "day"})
    assert rows == [
        (utc(2025, 1, 1), "A", 2),
        (utc(2025, 1, 2), "A", 2),
        (utc(2025, 1, 3), "A", 2),
        (utc(2025, 1, 4), "A", 1),
        (utc(2025, 1, 5), "A", 2),
        (utc(2025, 1, 6), "A", 1),
        (utc(2025, 1, 7), "A", 0),
    ]
    assert all(type(r[-1]) is int for r in rows)


def test_hour_grain():
    # 2025-01-03 14:00..17:00: only e5 (15:00) -> buckets 14, 15, 16 = 0, 1, 0
    q = {
        "series": [{"event": "any"}],
        "time_grain": "hour",
        "date_range": {"from": D(2025, 1, 3, 14), "to": D(2025, 1, 3, 17)},
    }
    assert run(q) == [(utc(2025, 1, 3, 14), "A", 0), (utc(2025, 1, 3, 15), "A", 1), (utc(2025, 1, 3, 16), "A", 0)]


def test_week_monday_and_sunday():
    q = {"series": [{"event": "any"}], "date_range": WEEK, "time_grain": "week"}
    # Monday weeks: 2024-12-30 holds Jan 1..5 (e1..e9 = 9), 2025-01-06 holds e10 (1).
    assert run(q) == [(utc(2024, 12, 30), "A", 9), (utc(2025, 1, 6), "A", 1)]
    # Sunday weeks: 2024-12-29 holds Jan 1..4 (e1..e7 = 7), 2025-01-05 holds Jan 5..7 (e8 e9 e10 = 3).
    assert run(q, week_start="sunday") == [(utc(2024, 12, 29), "A", 7), (utc(2025, 1, 5), "A", 3)]


def test_month_quarter_year_total():
    base = {"series": [{"event": "any"}], "date_range": {"from": date(2024, 12, 1), "to": date(2025, 2, 1)}}
    # December holds e11 and e13 (2), January holds e1..e10 and e12 (11).
    assert run({**base, "time_grain": "month"}) == [(utc(2024, 12, 1), "A", 2), (utc(2025, 1, 1), "A", 11)]
    assert run({**base, "time_grain": "quarter"}) == [(utc(2024, 10, 1), "A", 2), (utc(2025, 1, 1), "A", 11)]
    assert run({**base, "time_grain": "year"}) == [(utc(2024, 1, 1), "A", 2), (utc(2025, 1, 1), "A", 11)]
    # total: one bucket at `from`.
    assert run({**base, "time_grain": "total"}) == [(utc(2024, 12, 1), "A", 13)]


def test_new_york_moves_events_to_previous_day():
    # New York is UTC-5 in January. Local times: e1 01-01 05:00, e2 01-01 07:00, e4 01-01 22:00
    # (03:00 UTC on the 2nd), e3 01-02 04:00, e5 01-03 10:00, e6 01-03 18:30, e7 01-03 19:30 (00:30 UTC
    # on the 4th), e8 01-05 03:00, e9 01-05 15:00, e10 01-06 06:00, e12 01-07 19:00 (now inside).
    ny = ZoneInfo("America/New_York")
    rows = run({"series": [{"event": "any"}], "date_range": WEEK, "time_grain": "day"}, timezone="America/New_York")
    assert [r[-1] for r in rows] == [3, 1, 3, 0, 2, 1, 1]
    assert [r[0] for r in rows] == [datetime(2025, 1, d, tzinfo=ny) for d in range(1, 8)]
    assert rows[0][0] == utc(2025, 1, 1, 5)


def test_kolkata_half_hour_offset():
    # Asia/Kolkata is UTC+5:30: e6 (01-03 23:30 UTC) is 01-04 05:00 local, e7 01-04 06:00 local.
    q = {
        "series": [{"event": "any"}],
        "time_grain": "day",
        "date_range": {"from": date(2025, 1, 4), "to": date(2025, 1, 5)},
    }
    [(bucket, _, value)] = run(q, timezone="Asia/Kolkata")
    assert value == 2
    assert bucket == utc(2025, 1, 3, 18, 30)


def test_relative_range_cuts_mid_day():
    # last 3d before 2025-01-06 12:00 -> [01-03 12:00, 01-06 12:00): e5 e6 | e7 | e8 e9 | e10 (11:00).
    q = {"series": [{"event": "any"}], "date_range": {"last": "3d"}, "time_grain": "day"}
    assert values(q, now=D(2025, 1, 6, 12)) == [2, 1, 2, 1]
    # an aware `now` is converted to local time: 17:00 UTC is 12:00 in New York.
    start, end = date_range({"last": "3d"}, ZoneInfo("America/New_York"), utc(2025, 1, 6, 17))
    assert (start, end) == (D(2025, 1, 3, 12), D(2025, 1, 6, 12))


@pytest.mark.parametrize(
    ("last", "now", "start"),
    [
        ("1m", D(2025, 3, 31, 10), D(2025, 2, 28, 10)),  # day clamped to February's end
        ("1q", D(2025, 5, 31), D(2025, 2, 28)),
        ("2m", D(2025, 1, 15), D(2024, 11, 15)),  # across a year
        ("1y", D(2024, 2, 29), D(2023, 2, 28)),
        ("2w", D(2025, 1, 15, 6), D(2025, 1, 1, 6)),
        ("5h", D(2025, 1, 1, 3), D(2024, 12, 31, 22)),
    ],
)
def test_relative_units(last, now, start):
    assert date_range({"last": last}, ZoneInfo("UTC"), now) == (start, now)


# -- measures -------------------------------------------------------------------------------------

# view events in WEEK: e1 u1 10.0, e2 u2 20.0, e4 u3 null, e6 u4 5.0, e8 u1 25.0, e10 u3 12.5
VIEW = {"event": "view"}


@pytest.mark.parametrize(
    ("measure", "expected"),
    [
        ("events", 6),
        ("unique_users", 4),  # u1 u2 u3 u4
        ("events_per_user", 1.5),  # 6 / 4
        ("sum:price", 72.5),  # 10 + 20 + 5 + 25 + 12.5 (null skipped)
        ("avg:price", 14.5),  # 72.5 / 5 non-null values
        ("min:price", 5.0),
        ("max:price", 25.0),
        ("median:price", 12.5),  # sorted 5 10 12.5 20 25 -> middle
        ("p90:price", 23.0),  # position 0.9*4 = 3.6 -> 20 + 0.6 * (25 - 20)
        ("p25:price", 10.0),  # position 1
        ("p10:price", 7.0),  # position 0.4 -> 5 + 0.4 * 5
    ],
)
def test_measures_total(measure, expected):
    value = total({**VIEW, "measure": measure})
    assert value == pytest.approx(expected)
    assert type(value) is (int if measure in ("events", "unique_users") else float)


def test_property_measures_fill_null_and_sum_of_nulls_is_null():
    # day buckets for views: 01-01 e1 e2 (10+20), 01-02 e4 (null only), 01-03 e6 (5), 01-04 none,
    # 01-05 e8 (25), 01-06 e10 (12.5), 01-07 none.
    q = {"series": [{**VIEW, "measure": "sum:price"}], "date_range": WEEK, "time_grain": "day"}
    assert values(q) == [30.0, None, 5.0, None, 25.0, 12.5, None]
    q["series"][0]["measure"] = "events_per_user"
    assert values(q) == [1.0, 1.0, 1.0, None, 1.0, 1.0, None]


def test_percentile_cont():
    assert percentile_cont([3.0], 0.9) == 3.0
    assert percentile_cont([4.0, 1.0], 0.5) == 2.5
    assert percentile_cont([1.0, 2.0, 3.0, 4.0], 0.75) == 3.25  # position 2.25


def test_mixed_series_are_floats_and_sorted_by_label():
    # "Z" views per day and "B" unique purchasers; labels given out of order -> B first.
    q = {
        "series": [{**VIEW, "label": "Z"}, {"event": "purchase", "measure": "sum:price", "label": "B"}],
        "date_range": {"from": date(2025, 1, 3), "to": date(2025, 1, 5)},
        "time_grain": "day",
    }
    # purchases: e5 40.0 on 01-03, none on 01-04; views: e6 on 01-03, none on 01-04
    assert run(q) == [
        (utc(2025, 1, 3), "B", 40.0),
        (utc(2025, 1, 4), "B", None),
        (utc(2025, 1, 3), "Z", 1.0),
        (utc(2025, 1, 4), "Z", 0.0),
    ]
    assert type(run(q)[2][-1]) is float


def test_default_labels():
    q = {"series": [VIEW, {"event": "cart"}, {"event": "purchase"}], "date_range": WEEK, "time_grain": "total"}
    assert run(q) == [(utc(2025, 1, 1), "A", 6), (utc(2025, 1, 1), "B", 2), (utc(2025, 1, 1), "C", 2)]


# -- events and conditions -------------------------------------------------------------------------


def test_any_of_with_member_where():
    # carts e3 e7 + views with brand bolt (e2) = 3
    event = {"any_of": ["cart", {"event": "view", "where": [{"property": "brand", "op": "eq", "value": "bolt"}]}]}
    assert total({"event": event}) == 3
    # the series `where` applies on top: price > 16 keeps e3 (30) and e2 (20), not e7 (15)
    assert total({"event": event, "where": [{"property": "price", "op": "gt", "value": 16}]}) == 2
    # "any" inside any_of matches everything
    assert total({"event": {"any_of": ["any"]}}) == 10


# brands in WEEK: e1 acme, e2 bolt, e3 acme, e4 null, e5 Acme, e6 "", e7 bolt, e8 crest, e9 bolt, e10 acme
@pytest.mark.parametrize(
    ("cond", "expected"),
    [
        ({"op": "eq", "value": "acme"}, 3),  # e1 e3 e10 (case-sensitive: not e5)
        ({"op": "neq", "value": "acme"}, 6),  # e2 e5 e6 e7 e8 e9; the null e4 does not match
        ({"op": "in", "values": ["acme", "bolt"]}, 6),  # e1 e2 e3 e7 e9 e10
        ({"op": "not_in", "values": ["acme", "bolt"]}, 3),  # e5 e6 e8; not the null
        ({"op": "contains", "value": "c"}, 5),  # acme x3, Acme, crest
        ({"op": "not_contains", "value": "c"}, 4),  # bolt x3 and ""; not the null
        ({"op": "starts_with", "value": "a"}, 3),  # acme x3 (not Acme)
        ({"op": "is_null"}, 1),  # e4
        ({"op": "is_not_null"}, 9),  # "" is not null
        ({"op": "eq", "value": ""}, 1),  # e6
        ({"op": "gt", "value": "b"}, 4),  # bolt x3, crest; "Acme" < "b" by code point
        ({"op": "between", "values": ["b", "c"]}, 3),  # bolt x3; "crest" > "c"
        ({"op": "lt", "value": "acme"}, 2),  # "Acme" and "" sort before "acme"
    ],
)
def test_string_operators(cond, expected):
    assert total({"event": "any", "where": [{"property": "brand", **cond}]}) == expected


# prices in WEEK: e1 10, e2 20, e3 30, e4 null, e5 40, e6 5, e7 15, e8 25, e9 60, e10 12.5
@pytest.mark.parametrize(
    ("cond", "expected"),
    [
        ({"op": "gt", "value": 20}, 4),  # 30 40 25 60
        ({"op": "gte", "value": 20}, 5),  # + 20
        ({"op": "lt", "value": 12.5}, 2),  # 10 5
        ({"op": "lte", "value": 12.5}, 3),  # + 12.5
        ({"op": "between", "values": [10, 20]}, 4),  # 10 20 15 12.5 (inclusive)
        ({"op": "eq", "value": 10}, 1),
        ({"op": "neq", "value": 10}, 8),  # 9 non-null minus one
        ({"op": "in", "values": [5, 40]}, 2),
        ({"op": "not_in", "values": [5, 40]}, 7),
        ({"op": "is_null"}, 1),
    ],
)
def test_numeric_operators(cond, expected):
    assert total({"event": "any", "where": [{"property": "price", **cond}]}) == expected


def test_conditions_are_anded():
    # brand acme AND price >= 12: e3 (30), e10 (12.5); not e1 (10)
    where = [{"property": "brand", "op": "eq", "value": "acme"}, {"property": "price", "op": "gte", "value": 12}]
    assert total({"event": "any", "where": where}) == 2


def test_user_properties():
    def where(*conds):
        return {"event": "any", "where": list(conds)}

    # u1 (DE): e1 e3 e5 e8
    assert total(where({"property": "country", "op": "eq", "value": "DE"})) == 4
    # null country: u3 (null) e4 e10 and u4 (no user row) e6
    assert total(where({"property": "country", "op": "is_null"})) == 3
    # neq DE: only u2 (US) e2 e7 e9; null countries do not match
    assert total(where({"property": "user.country", "op": "neq", "value": "DE"})) == 3
    # booleans: vip u1
    assert total(where({"property": "vip", "op": "eq", "value": True})) == 4


def test_event_and_user_prefix_pick_the_source():
    users = [{**u, "brand": "userbrand"} for u in USERS]
    q = {
        "series": [{"event": "any", "where": [{"property": "brand", "op": "eq", "value": "userbrand"}]}],
        "date_range": WEEK,
        "time_grain": "total",
    }
    assert oracle(q, EVENTS, users)[0]["value"] == 0  # `brand` is the event column
    q["series"][0]["where"][0]["property"] = "user.brand"
    assert oracle(q, EVENTS, users)[0]["value"] == 9  # every event of u1 u2 u3 (not u4's e6)
    q["series"][0]["where"][0]["property"] = "event.brand"
    assert oracle(q, EVENTS, users)[0]["value"] == 0


def test_arrow_input_equals_list_input():
    events = pa.Table.from_pylist(EVENTS)
    q = {"series": [{"event": "view", "measure": "sum:price"}], "date_range": WEEK, "time_grain": "day"}
    assert oracle(q, events, pa.Table.from_pylist(USERS)) == oracle(q, EVENTS, USERS)


# -- breakdowns -------------------------------------------------------------------------------------


def test_breakdown_by_user_property_nulls_last():
    # unique users per country: DE {u1}, US {u2}, null {u3, u4}
    q = {
        "series": [{"event": "any", "measure": "unique_users"}],
        "date_range": WEEK,
        "time_grain": "total",
        "breakdown": ["country"],
    }
    assert [(r[1], r[3]) for r in run(q)] == [("DE", 1), ("US", 1), (None, 2)]


def test_breakdown_by_event_and_two_properties_with_fill():
    q = {"series": [{"event": "any"}], "date_range": WEEK, "time_grain": "total", "breakdown": "event"}
    assert [(r[1], r[3]) for r in run(q)] == [("cart", 2), ("purchase", 2), ("view", 6)]
    # two columns, daily, only carts: (acme, DE) e3 on 01-02; (bolt, US) e7 on 01-04; zeros elsewhere
    q = {
        "series": [{"event": "cart"}],
        "time_grain": "day",
        "breakdown": ["brand", "country"],
        "date_range": {"from": date(2025, 1, 2), "to": date(2025, 1, 5)},
    }
    assert [r[1:] for r in run(q)] == [
        ("acme", "DE", "A", 1),
        ("acme", "DE", "A", 0),
        ("acme", "DE", "A", 0),
        ("bolt", "US", "A", 0),
        ("bolt", "US", "A", 0),
        ("bolt", "US", "A", 1),
    ]


def test_breakdown_values_are_text():
    assert [breakdown_text(v) for v in (None, "", 5, 5.24, 10.0, True, False)] == [
        None,
        "",
        "5",
        "5.24",
        "10.0",
        "true",
        "false",
    ]
    assert breakdown_text(date(2025, 1, 2)) == "2025-01-02"
    assert breakdown_text(D(2025, 1, 2, 3, 4, 5)) == "2025-01-02 03:04:05"
    # fractions of a second as DuckDB prints them: trailing zeros dropped
    assert breakdown_text(D(2025, 1, 2, 3, 4, 5, 500000)) == "2025-01-02 03:04:05.5"
    assert breakdown_text(D(2025, 1, 2, 3, 4, 5, 123456)) == "2025-01-02 03:04:05.123456"
    q = {"series": [{"event": "purchase"}], "date_range": WEEK, "time_grain": "total", "breakdown": ["price"]}
    assert [(r[1], r[3]) for r in run(q)] == [("40.0", 1), ("60.0", 1)]


def test_breakdown_limit_unique_users_counts_user_once_in_other():
    # unique users per brand: acme {u1, u3} = 2; bolt {u2}, null {u3}, Acme {u1}, "" {u4}, crest {u1} = 1
    q = {
        "series": [{"event": "any", "measure": "unique_users"}],
        "date_range": WEEK,
        "time_grain": "total",
        "breakdown": ["brand"],
        "breakdown_limit": 1,
    }
    # top 1 is acme; Other = bolt u2, null u3, Acme u1, "" u4, crest u1 -> {u1, u2, u3, u4} = 4, not 5.
    # "Other" sorts before "acme" (code point of 'O' < 'a').
    assert [(r[1], r[3]) for r in run(q)] == [("Other", 4), ("acme", 2)]
    # top 2: the ties at 1 break by value ascending, null last: "", Acme, bolt, crest, null -> "" wins.
    # Other = bolt u2, null u3, Acme u1, crest u1 -> 3
    q["breakdown_limit"] = 2
    assert [(r[1], r[3]) for r in run(q)] == [("", 1), ("Other", 3), ("acme", 2)]


def test_breakdown_limit_sum_nulls_rank_last():
    # sum of price per brand: bolt 95, acme 52.5, Acme 40, crest 25, "" 5, null-brand (e4) null
    q = {
        "series": [{"event": "any", "measure": "sum:price"}],
        "date_range": WEEK,
        "time_grain": "total",
        "breakdown": ["brand"],
        "breakdown_limit": 2,
    }
    # top 2: bolt, acme; Other: 40 + 25 + 5 (+ null) = 70
    assert [(r[1], r[3]) for r in run(q)] == [("Other", 70.0), ("acme", 52.5), ("bolt", 95.0)]


def test_breakdown_limit_ranks_by_first_series_only():
    # A: purchases per country (DE e5, US e9: tie 1-1 -> DE wins), B: views per country.
    # B's groups: DE (e1 e8), US (e2), null (e4 e6 e10) -> US and null become Other.
    q = {
        "series": [{"event": "purchase"}, VIEW],
        "date_range": WEEK,
        "time_grain": "total",
        "breakdown": ["country"],
        "breakdown_limit": 1,
    }
    assert [(r[1], r[2], r[3]) for r in run(q)] == [
        ("DE", "A", 1),
        ("Other", "A", 1),
        ("DE", "B", 2),
        ("Other", "B", 4),
    ]


# -- rolling active users ----------------------------------------------------------------------------

ACME_VIEWS = {"event": "view", "where": [{"property": "brand", "op": "eq", "value": "acme"}]}
# acme views: e13 u2 12-26, e11 u1 12-30, e1 u1 01-01, e10 u3 01-06, e12 u2 01-08 00:00


def test_wau_looks_back_before_from():
    q = {
        "series": [{**ACME_VIEWS, "measure": "wau"}],
        "time_grain": "day",
        "date_range": {"from": date(2025, 1, 2), "to": date(2025, 1, 8)},
    }
    # 01-02: window 12-27..01-02 -> u1 (e11, e1; both before `from`); e13 (12-26) is outside -> 1
    # 01-03 .. 01-05: u1 -> 1
    # 01-06: window 12-31..01-06 -> u1 (e1), u3 (e10) -> 2
    # 01-07: window 01-01..01-07 -> u1 (e1), u3 -> 2; e12 is exactly `to` and never counts
    assert values(q) == [1, 1, 1, 1, 2, 2]
    # plain unique users per day over the same range: only e10 on 01-06
    q["series"][0]["measure"] = "unique_users"
    assert values(q) == [0, 0, 0, 0, 1, 0]


def test_rolling_week_grain_and_total():
    # Monday weeks over WEEK: 2024-12-30 (window ends 01-05: 12-30..01-05 -> u1) and 2025-01-06
    # (last day clipped to 01-07: 01-01..01-07 -> u1, u3)
    q = {"series": [{**ACME_VIEWS, "measure": "wau"}], "time_grain": "week", "date_range": WEEK}
    assert values(q) == [1, 2]
    # total: window 01-01..01-07 -> u1 u3
    q["time_grain"] = "total"
    assert values(q) == [2]
    # dau at total: only 01-07 -> nobody
    q["series"][0]["measure"] = "dau"
    assert values(q) == [0]
    # active_users:3d ending 01-07: 01-05..01-07 -> u3 (e10)
    q["series"][0]["measure"] = "active_users:3d"
    assert values(q) == [1]


def test_rolling_breakdown():
    # wau per country, all views, days 01-05 and 01-06:
    # 01-05 window 12-30..01-05: DE u1 (e11 e1 e8), US u2 (e2), null u3 (e4) u4 (e6)
    # 01-06 window 12-31..01-06: DE u1, US u2, null u3 u4
    q = {
        "series": [{**VIEW, "measure": "wau"}],
        "time_grain": "day",
        "breakdown": ["country"],
        "date_range": {"from": date(2025, 1, 5), "to": date(2025, 1, 7)},
    }
    assert [(r[1], r[3]) for r in run(q)] == [("DE", 1), ("DE", 1), ("US", 1), ("US", 1), (None, 2), (None, 2)]


# -- daylight saving ---------------------------------------------------------------------------------


def test_hour_skipped_by_spring_forward_is_not_a_bucket():
    # New York 2025-03-09: 02:00 jumps to 03:00, so local 02:00..03:00 never happens.
    ny = ZoneInfo("America/New_York")
    q = {
        "series": [{"event": "any"}],
        "time_grain": "hour",
        "date_range": {"from": D(2025, 3, 9, 0), "to": D(2025, 3, 9, 5)},
    }
    buckets = [r["bucket"] for r in oracle(q, EVENTS, USERS, timezone="America/New_York")]
    assert buckets == [datetime(2025, 3, 9, h, tzinfo=ny) for h in (0, 1, 3, 4)]
    # 01:00 EST to 03:00 EDT is one real hour
    assert buckets[2].astimezone(UTC) - buckets[1].astimezone(UTC) == timedelta(hours=1)


def test_fall_back_hour_is_one_bucket_at_its_earlier_instant():
    # New York 2025-11-02: 01:00..02:00 happens twice; one bucket, at the first 01:00 (EDT).
    q = {
        "series": [{"event": "any"}],
        "time_grain": "hour",
        "date_range": {"from": D(2025, 11, 2, 0), "to": D(2025, 11, 2, 3)},
    }
    buckets = [r["bucket"] for r in oracle(q, EVENTS, USERS, timezone="America/New_York")]
    assert [b.astimezone(UTC).hour for b in buckets] == [4, 5, 7]  # 00:00 EDT, 01:00 EDT, 02:00 EST


def test_day_starting_in_a_gap_starts_when_the_gap_ends():
    # Beirut 2025-03-30: midnight jumps to 01:00 (UTC+2 -> UTC+3); the day is still a bucket,
    # starting at 01:00 +03:00 = 22:00 UTC on the 29th.
    q = {
        "series": [{"event": "any"}],
        "time_grain": "day",
        "date_range": {"from": date(2025, 3, 29), "to": date(2025, 3, 31)},
    }
    buckets = [r["bucket"] for r in oracle(q, EVENTS, USERS, timezone="Asia/Beirut")]
    assert [b.astimezone(UTC) for b in buckets] == [utc(2025, 3, 28, 22), utc(2025, 3, 29, 22)]


def test_hour_partly_in_a_half_hour_gap_is_kept():
    # Lord Howe Island 2025-10-05: 02:00 jumps to 02:30 (+10:30 -> +11). Local 02:30..03:00 exists,
    # so the 02:00 hour bucket stays; it starts at 02:30 +11:00 = 15:30 UTC on the 4th.
    q = {
        "series": [{"event": "any"}],
        "time_grain": "hour",
        "date_range": {"from": D(2025, 10, 5, 1), "to": D(2025, 10, 5, 4)},
    }
    buckets = [r["bucket"].astimezone(UTC) for r in oracle(q, EVENTS, USERS, timezone="Australia/Lord_Howe")]
    assert buckets == [utc(2025, 10, 4, 14, 30), utc(2025, 10, 4, 15, 30), utc(2025, 10, 4, 16)]


def test_rolling_groups_in_range_or_counted_from_look_back():
    extra = [
        # in range but without a user: a user-less row makes no group
        {
            "id": "x1",
            "event_name": "view",
            "user_id": None,
            "event_time": D(2025, 1, 6, 9),
            "price": None,
            "brand": "ghost",
        },
        # only before `from`, inside the 7-day look-back of 01-06: the group is shown
        {
            "id": "x2",
            "event_name": "view",
            "user_id": "u4",
            "event_time": D(2025, 1, 2, 9),
            "price": None,
            "brand": "old",
        },
        # only before the look-back: not shown
        {
            "id": "x3",
            "event_name": "view",
            "user_id": "u4",
            "event_time": D(2024, 12, 20, 9),
            "price": None,
            "brand": "older",
        },
    ]
    q = {
        "series": [{"event": "view", "measure": "wau"}],
        "time_grain": "day",
        "breakdown": ["brand"],
        "date_range": {"from": date(2025, 1, 6), "to": date(2025, 1, 8)},
    }
    rows = [(r["brand"], r["value"]) for r in oracle(q, EVENTS + extra, USERS)]
    # views by brand with windows 12-31..01-06 and 01-01..01-07:
    # "" u4 (e6) 1 1; acme u1 (e1) u3 (e10) 2 2; bolt u2 (e2) 1 1; crest u1 (e8) 1 1;
    # ghost: no user, no group; old u4 (x2 on 01-02) 1 1; null u3 (e4 on 01-02) 1 1
    assert rows == [
        ("", 1),
        ("", 1),
        ("acme", 2),
        ("acme", 2),
        ("bolt", 1),
        ("bolt", 1),
        ("crest", 1),
        ("crest", 1),
        ("old", 1),
        ("old", 1),
        (None, 1),
        (None, 1),
    ]


def test_rolling_groups_need_a_row_in_some_window():
    # dau at `total` over WEEK looks at 01-07 only; no view is on 01-07, so no brand group is shown,
    # although every brand has views in range
    q = {
        "series": [{"event": "view", "measure": "dau"}],
        "time_grain": "total",
        "breakdown": ["brand"],
        "date_range": WEEK,
    }
    assert oracle(q, EVENTS, USERS) == []
    # a view without a user on 01-07 does not make its group appear
    extra = [
        {
            "id": "x",
            "event_name": "view",
            "user_id": None,
            "event_time": D(2025, 1, 7, 9),
            "price": None,
            "brand": "ghost",
        }
    ]
    assert oracle(q, EVENTS + extra, USERS) == []
    # without a breakdown the one empty group is always there
    q.pop("breakdown")
    assert [r["value"] for r in oracle(q, EVENTS, USERS)] == [0]


# -- advanced series (docs/queries.md "Advanced series") ---------------------------------------------
#
# Views in the usual WEEK, by user: u1 e1 (01-01) e8 (01-05); u2 e2 (01-01); u3 e4 (01-02) e10 (01-06);
# u4 e6 (01-03). Before it: u1 e11 (12-30), u2 e13 (12-26); at `to`: u2 e12 (01-08 00:00).


def ev(id_: str, name: str, user: str | None, when: datetime, price: float | None = None, brand: str | None = None):
    return {"id": id_, "event_name": name, "user_id": user, "event_time": when, "price": price, "brand": brand}


def daily(series: dict, **query) -> list:
    return [
        r["value"]
        for r in oracle({"series": [series], "date_range": WEEK, "time_grain": "day", **query}, EVENTS, USERS)
    ]


def test_first_occurrence_ever_and_in_range():
    # ever: u1's and u2's first views are before the range (e11, e13): they never count;
    # u3's first is e4 (01-02), u4's e6 (01-03)
    assert daily({**VIEW, "measure": "unique_users", "occurrence": "first"}) == [0, 1, 1, 0, 0, 0, 0]
    # range: only views inside WEEK compete: u1 e1 and u2 e2 (01-01), u3 e4 (01-02), u4 e6 (01-03)
    first_in_range = {**VIEW, "measure": "unique_users", "occurrence": "first", "occurrence_scope": "range"}
    assert daily(first_in_range) == [2, 1, 1, 0, 0, 0, 0]


def test_last_occurrence_ever_and_in_range():
    # ever: u2's last view is e12, exactly at `to` (outside): u2 has no last view in the range;
    # u1 e8 (01-05), u3 e10 (01-06), u4 e6 (01-03)
    assert daily({**VIEW, "measure": "unique_users", "occurrence": "last"}) == [0, 0, 1, 0, 1, 1, 0]
    # range: u2's last view inside WEEK is e2 (01-01)
    last_in_range = {**VIEW, "measure": "events", "occurrence": "last", "occurrence_scope": "range"}
    assert daily(last_in_range) == [1, 0, 1, 0, 1, 1, 0]


def test_occurrence_ties_all_count_and_null_users_never():
    extra = [
        ev("t1", "view", "u3", D(2025, 1, 2, 3, 0), 7.0, "twin"),  # the same instant as e4: a tie
        ev("t2", "view", None, D(2025, 1, 1, 1, 0), 1.0, "ghost"),  # no user: never an occurrence
    ]
    q = {
        "series": [{**VIEW, "occurrence": "first"}, {**VIEW, "measure": "unique_users", "occurrence": "first"}],
        "date_range": WEEK,
        "time_grain": "total",
        "breakdown": ["brand"],
    }
    rows = [(r["brand"], r["series"], r["value"]) for r in oracle(q, EVENTS + extra, USERS)]
    # first views ever: u3 e4 (null brand) and t1 (twin) tie; u4 e6 (""); no "ghost" group
    assert rows == [("", "A", 1), ("twin", "A", 1), (None, "A", 1), ("", "B", 1), ("twin", "B", 1), (None, "B", 1)]


def test_occurrence_ranks_matching_events_only():
    # "first acme view": e13 (u2, 12-26) and e11 (u1, 12-30) are the first of u2 and u1 -> before
    # the range; u3's first acme view is e10 (01-06), although u3's first view is e4 (null brand)
    acme = {**ACME_VIEWS, "measure": "unique_users", "occurrence": "first"}
    assert daily(acme) == [0, 0, 0, 0, 0, 1, 0]
    # a user-property filter counts too: DE views are u1's; the first (e11) is before the range
    de = {**VIEW, "where": [{"property": "country", "op": "eq", "value": "DE"}], "occurrence": "first"}
    assert total(de) == 0
    assert total({**de, "occurrence_scope": "range"}) == 1  # e1


def test_occurrence_ranks_by_instant_not_local_time():
    # New York, fall back on 2025-11-02: 05:30 UTC is 01:30 EDT, 06:10 UTC is 01:10 EST. Local time
    # puts the second first; the first occurrence is the earlier instant (05:30 UTC, brand "early").
    extra = [
        ev("n1", "view", "u9", D(2025, 11, 2, 5, 30), brand="early"),
        ev("n2", "view", "u9", D(2025, 11, 2, 6, 10), brand="later"),
    ]
    q = {
        "series": [{**VIEW, "occurrence": "first"}],
        "date_range": {"from": date(2025, 11, 2), "to": date(2025, 11, 3)},
        "time_grain": "total",
        "breakdown": ["brand"],
    }
    rows = oracle(q, EVENTS + extra, USERS, timezone="America/New_York")
    assert [(r["brand"], r["value"]) for r in rows] == [("early", 1)]


def test_formula_per_bucket_with_zero_division():
    # views per day [2, 1, 1, 0, 1, 1, 0], purchases per day [0, 0, 1, 0, 1, 0, 0]
    q = {
        "series": [VIEW, {"event": "purchase"}],
        "date_range": WEEK,
        "time_grain": "day",
        "formulas": [{"label": "rate", "expression": "B / A * 100"}],
    }
    rows = oracle(q, EVENTS, USERS)
    by_series = {}
    for r in rows:
        by_series.setdefault(r["series"], []).append(r["value"])
    assert list(by_series) == ["A", "B", "rate"]
    assert by_series["A"] == [2.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0]  # float64 whenever there are formulas
    assert all(type(v) is float for v in by_series["A"])
    assert by_series["rate"] == [0.0, 0.0, 100.0, None, 100.0, 0.0, None]  # 0 / 0 -> null


@pytest.mark.parametrize(
    ("expression", "values", "expected"),
    [
        ("-(A - B) / 2", {"A": 3, "B": 1}, -1.0),
        ("A - -B", {"A": 3, "B": 1}, 4.0),
        ("2 * (A + B) - 1", {"A": 3, "B": 1}, 7.0),
        ("2 + 3 * A", {"A": 4}, 14.0),  # * before +
        ("1 - 2 - A", {"A": 3}, -4.0),  # left to right
        ("8 / A / 2", {"A": 4}, 1.0),
        (".5 * A + 1.25", {"A": 3}, 2.75),
        ("A / (B - 1)", {"A": 3, "B": 1}, None),  # division by zero
        ("A * 0 + B", {"A": None, "B": 1}, None),  # a null operand
        ("-A", {"A": 0}, 0.0),
    ],
)
def test_formula_arithmetic(expression, values, expected):
    assert evaluate_formula(expression, values) == expected


def test_formula_groups_are_the_union_and_missing_counts_are_zero():
    # by brand over WEEK: views acme 2 (e1 e10), bolt 1, crest 1, "" 1, null 1; purchases Acme 1, bolt 1
    q = {
        "series": [VIEW, {"event": "purchase"}],
        "date_range": WEEK,
        "time_grain": "total",
        "breakdown": ["brand"],
        "formula": "B / A",
    }
    rows = [(r["brand"], r["value"]) for r in oracle(q, EVENTS, USERS) if r["series"] == "B / A"]
    # Acme: no views -> A is 0 -> 1 / 0 -> null; every other brand: purchases / views
    assert rows == [("", 0.0), ("Acme", None), ("acme", 0.0), ("bolt", 1.0), ("crest", 0.0), (None, 0.0)]
    # a missing non-count value is null: sum of view prices has no Acme row
    q["series"][0] = {**VIEW, "measure": "sum:price"}
    q["formula"] = "A + B"
    rows = [(r["brand"], r["value"]) for r in oracle(q, EVENTS, USERS) if r["series"] == "A + B"]
    # "" 5 + 0, Acme null, acme 22.5 + 0, bolt 20 + 1, crest 25 + 0, null brand: sum of null = null
    assert rows == [("", 5.0), ("Acme", None), ("acme", 22.5), ("bolt", 21.0), ("crest", 25.0), (None, None)]


def test_per_user_measures_across_users():
    # views in WEEK per user: u1 2, u2 1, u3 2, u4 1
    def per_user(measure):
        return total({**VIEW, "measure": measure})

    assert per_user("user_avg:events") == 1.5
    assert per_user("user_min:events") == 1.0
    assert per_user("user_max:events") == 2.0
    assert per_user("user_median:events") == 1.5  # [1, 1, 2, 2]
    assert per_user("user_p25:events") == 1.0  # position 0.75 between 1 and 1
    assert per_user("user_p75:events") == 2.0  # position 2.25 between 2 and 2
    # sum of price per user over every event: u1 10+30+40+25, u2 20+15+60, u3 null+12.5, u4 5
    assert total({"event": "any", "measure": "user_avg:sum:price"}) == (105 + 95 + 12.5 + 5) / 4
    assert type(per_user("user_max:events")) is float


def test_per_user_sum_of_nulls_is_zero_and_empty_buckets_are_null():
    # on 01-02 the only view is u3's e4 with a null price: u3's sum is 0, not null
    q = {
        "series": [{**VIEW, "measure": "user_max:sum:price"}],
        "date_range": {"from": date(2025, 1, 2), "to": date(2025, 1, 3)},
        "time_grain": "day",
    }
    assert values(q) == [0.0]
    # purchases per user per day: only 01-03 (u1) and 01-05 (u2); the rest null
    assert daily({"event": "purchase", "measure": "user_avg:events"}) == [None, None, 1.0, None, 1.0, None, None]


def test_per_user_groups_need_a_user_and_limit_ranks_by_users():
    extra = [ev("g", "view", None, D(2025, 1, 4, 9), brand="ghost")]
    q = {
        "series": [{"event": "any", "measure": "user_max:events"}],
        "date_range": WEEK,
        "time_grain": "total",
        "breakdown": ["brand"],
    }
    brands = [r["brand"] for r in oracle(q, EVENTS + extra, USERS)]
    assert "ghost" not in brands  # only a user-less event: no per-user value, no group
    # events per brand and user: acme u1 2 (e1 e3) u3 1 (e10); bolt u2 3 (e2 e7 e9); Acme u1 (e5);
    # crest u1 (e8); "" u4 (e6); null u3 (e4). Ranked by distinct users acme (2) is first, although
    # bolt's per-user max (3) is higher. Other: u1 e5 e8 -> 2, u2 3, u3 1, u4 1 -> max 3.
    q["breakdown_limit"] = 1
    assert [(r["brand"], r["value"]) for r in oracle(q, EVENTS, USERS)] == [("Other", 3.0), ("acme", 2.0)]


def test_frequency_distribution():
    q = {"series": [{**VIEW, "measure": "frequency"}], "date_range": WEEK, "time_grain": "total"}
    rows = oracle(q, EVENTS, USERS)
    # u1 2, u2 1, u3 2, u4 1 -> two users once, two users twice
    assert [list(r) for r in rows] == [["bucket", "frequency", "series", "value"]] * 2
    assert [(r["frequency"], r["value"]) for r in rows] == [(1, 2), (2, 2)]
    # daily: only days with views, only frequencies that occur
    q["time_grain"] = "day"
    rows = oracle(q, EVENTS, USERS)
    assert [(r["bucket"].day, r["frequency"], r["value"]) for r in rows] == [
        (1, 1, 2),  # u1 e1, u2 e2
        (2, 1, 1),  # u3 e4
        (3, 1, 1),  # u4 e6
        (5, 1, 1),  # u1 e8
        (6, 1, 1),  # u3 e10
    ]
    # by country (the frequency column after the breakdown columns): DE u1 2; US u2 1; null u3 2, u4 1
    q.update(time_grain="total", breakdown=["country"])
    rows = oracle(q, [*EVENTS, ev("x", "view", None, D(2025, 1, 2, 5))], USERS)  # a user-less view: nobody
    assert list(rows[0]) == ["bucket", "country", "frequency", "series", "value"]
    assert [(r["country"], r["frequency"], r["value"]) for r in rows] == [
        ("DE", 2, 1),
        ("US", 1, 1),
        (None, 1, 1),
        (None, 2, 1),
    ]


def segment_total(segment: dict, series: dict | None = None, events: list | None = None, now=None) -> int:
    q = {"series": [series or {"event": "any"}], "date_range": WEEK, "time_grain": "total", "segment": segment}
    [row] = oracle(q, EVENTS if events is None else events, USERS, now=now)
    return row["value"]


# events in WEEK per user: u1 e1 e3 e5 e8 (4); u2 e2 e7 e9 (3); u3 e4 e10 (2); u4 e6 (1)
NOBODY = ev("z", "cart", None, D(2025, 1, 3, 9), 99.0, "nobody")  # a cart without a user id


def test_segment_did_and_did_not():
    assert segment_total({"did": {"event": "cart"}}) == 7  # u1 u2
    # did_not: u3 u4; the user-less cart is in no segment (it would otherwise count as "did not")
    assert segment_total({"did_not": {"event": "cart"}}, events=[*EVENTS, NOBODY]) == 3
    # filters of the segment's event: a cart over 20 -> u1 (e3)
    assert segment_total({"did": {"event": "cart", "where": [{"property": "price", "op": "gt", "value": 20}]}}) == 4
    # both: did view and did not purchase -> u3 u4
    assert segment_total({"did": VIEW, "did_not": {"event": "purchase"}}) == 3


def test_segment_windows_absolute_relative_and_ever():
    # views from 12-27 to 12-31: u1 (e11) only; from 12-25: u2 (e13) too
    assert segment_total({"did": {**VIEW, "date_range": {"from": date(2024, 12, 27), "to": date(2024, 12, 31)}}}) == 4
    assert segment_total({"did": {**VIEW, "date_range": {"from": date(2024, 12, 25), "to": date(2024, 12, 31)}}}) == 7
    # relative: the 2 days before 01-07 00:00 are [01-05, 01-07): views e8 (u1) e10 (u3)
    assert segment_total({"did": {**VIEW, "date_range": {"last": "2d"}}}, now=D(2025, 1, 7)) == 6
    # ever includes events after the query's range: u2's view e12 at 01-08 (`to`)
    later = {**VIEW, "date_range": {"from": date(2025, 1, 8), "to": date(2025, 1, 9)}}
    assert segment_total({"did": later}) == 3
    assert segment_total({"did": {"event": "view"}}) == 10


def test_segment_user_where():
    assert segment_total({"user_where": [{"property": "country", "op": "eq", "value": "US"}]}) == 3  # u2
    # null country: u3 (null) and u4 (no users row); never the user-less cart
    is_null = {"user_where": [{"property": "country", "op": "is_null"}]}
    assert segment_total(is_null, events=[*EVENTS, NOBODY]) == 3
    both = {"did": {"event": "cart"}, "user_where": [{"property": "vip", "op": "eq", "value": False}]}
    assert segment_total(both) == 3  # carts by u1 u2; vip false: u2


def test_segment_breakdown_splits_instead_of_restricting():
    q = {
        "series": [{"event": "any"}],
        "date_range": WEEK,
        "time_grain": "total",
        "breakdown": ["segment", "event"],
        "segment": {"did": {"event": "cart"}},
    }
    rows = [(r["segment"], r["event"], r["value"]) for r in oracle(q, [*EVENTS, NOBODY], USERS)]
    # in (u1 u2): cart e3 e7, purchase e5 e9, view e1 e2 e8; not in: u3 u4 views e4 e6 e10 and the
    # user-less cart
    assert rows == [
        ("in", "cart", 2),
        ("in", "purchase", 2),
        ("in", "view", 3),
        ("not in", "cart", 1),
        ("not in", "view", 3),
    ]


def test_segment_is_an_ordinary_property_without_a_segment():
    events = [{**e, "segment": "s" if e["user_id"] == "u1" else None} for e in EVENTS]
    q = {"series": [{"event": "any"}], "date_range": WEEK, "time_grain": "total", "breakdown": ["segment"]}
    assert [(r["segment"], r["value"]) for r in oracle(q, events, USERS)] == [("s", 4), (None, 6)]


def test_segment_restricts_occurrence_users():
    # first views in range: u1 e1, u2 e2 (01-01); u3 e4; u4 e6 -> only carters u1 u2 remain
    q = {"event": "view", "measure": "unique_users", "occurrence": "first", "occurrence_scope": "range"}
    assert segment_total({"did": {"event": "cart"}}, series=q) == 2


def test_previous_period_day():
    # current [01-04, 01-08): views 0 1 1 0; previous [12-31, 01-04): views 0 2 1 1
    q = {
        "series": [VIEW],
        "date_range": {"from": date(2025, 1, 4), "to": date(2025, 1, 8)},
        "time_grain": "day",
        "compare": "previous_period",
    }
    assert run(q) == [
        (utc(2025, 1, 4), "A", 0),
        (utc(2025, 1, 5), "A", 1),
        (utc(2025, 1, 6), "A", 1),
        (utc(2025, 1, 7), "A", 0),
        (utc(2025, 1, 4), "A (previous)", 0),
        (utc(2025, 1, 5), "A (previous)", 2),
        (utc(2025, 1, 6), "A (previous)", 1),
        (utc(2025, 1, 7), "A (previous)", 1),
    ]
    # relative: last 3d at 01-07 00:00 -> [01-04, 01-07), previous [01-01, 01-04)
    q["date_range"] = {"last": "3d"}
    assert values(q, now=D(2025, 1, 7)) == [0, 1, 1, 2, 1, 1]


def test_previous_period_buckets_align_by_position():
    # weeks: current [Tue 01-07, Mon 01-13) is one bucket (01-06): e12 at 01-08 -> 1.
    # previous [Wed 01-01, Tue 01-07) has two (12-30: e1 e2 e4 e6 e8 = 5; 01-06: e10): the first is
    # reported at 01-06, the second dropped.
    q = {
        "series": [VIEW],
        "date_range": {"from": date(2025, 1, 7), "to": date(2025, 1, 13)},
        "time_grain": "week",
        "compare": "previous_period",
    }
    assert run(q) == [(utc(2025, 1, 6), "A", 1), (utc(2025, 1, 6), "A (previous)", 5)]
    # months: current [01-31, 03-01) has two buckets, previous [01-02, 01-31) one (views e4 e6 e8
    # e10 e12 = 5): the missing second is filled with 0
    q["date_range"] = {"from": date(2025, 1, 31), "to": date(2025, 3, 1)}
    q["time_grain"] = "month"
    assert run(q) == [
        (utc(2025, 1, 1), "A", 0),
        (utc(2025, 2, 1), "A", 0),
        (utc(2025, 1, 1), "A (previous)", 5),
        (utc(2025, 2, 1), "A (previous)", 0),
    ]


def test_previous_period_top_n_from_the_current_period():
    # unique viewers by brand, current [01-04, 01-08): crest u1, acme u3 -> tie, acme first.
    # previous [12-31, 01-04): acme u1 (e1); bolt u2, null u3, "" u4 -> Other 3
    q = {
        "series": [{**VIEW, "measure": "unique_users"}],
        "date_range": {"from": date(2025, 1, 4), "to": date(2025, 1, 8)},
        "time_grain": "total",
        "breakdown": ["brand"],
        "breakdown_limit": 1,
        "compare": "previous_period",
    }
    assert [(r[1], r[2], r[3]) for r in run(q)] == [
        ("Other", "A", 1),
        ("acme", "A", 1),
        ("Other", "A (previous)", 3),
        ("acme", "A (previous)", 1),
    ]


def test_previous_period_rolling_looks_back_before_its_own_start():
    # acme views: e13 u2 12-26, e11 u1 12-30, e1 u1 01-01, e10 u3 01-06. Current [01-06, 01-08):
    # windows 12-31..01-06 (u1 u3) and 01-01..01-07 (u1 u3); previous [01-04, 01-06): windows
    # 12-29..01-04 and 12-30..01-05 (u1 only; e13 is too early)
    q = {
        "series": [{**ACME_VIEWS, "measure": "wau"}],
        "date_range": {"from": date(2025, 1, 6), "to": date(2025, 1, 8)},
        "time_grain": "day",
        "compare": "previous_period",
    }
    assert values(q) == [2, 2, 1, 1]


def test_several_event_tables():
    # one table per event for purchases (its own column names and an `amount`), views in a table
    # with an event-name column `kind`
    views = [{"kind": "view", "who": "u1", "at": D(2025, 1, 1, 10), "brand": "acme"}]
    views.append({"kind": "view", "who": "u2", "at": D(2025, 1, 2, 10), "brand": "bolt"})
    purchases = [
        {"buyer": "u1", "ts": D(2025, 1, 2, 11), "amount": 30.0},
        {"buyer": "u3", "ts": D(2025, 1, 3), "amount": None},
    ]
    tables = [
        ({"user_id": "who", "event_time": "at", "event_name": "kind"}, views),
        ({"user_id": "buyer", "event_time": "ts", "event_name_value": "purchase"}, purchases),
    ]
    merged = merge_event_tables(tables)
    assert merged[2] == {
        "amount": 30.0,
        "__user_id": "u1",
        "__event_time": D(2025, 1, 2, 11),
        "__event_name": "purchase",
    }
    q = {
        "series": [{"event": "any", "measure": "unique_users"}, {"event": "any", "measure": "sum:amount"}],
        "date_range": WEEK,
        "time_grain": "total",
        "breakdown": ["event", "brand"],
    }
    rows = [(r["event"], r["brand"], r["series"], r["value"]) for r in oracle_tables(q, tables, USERS)]
    # brand is null for purchases (their table has no brand), amount null for views
    assert rows == [
        ("purchase", None, "A", 2.0),
        ("view", "acme", "A", 1.0),
        ("view", "bolt", "A", 1.0),
        ("purchase", None, "B", 30.0),
        ("view", "acme", "B", None),
        ("view", "bolt", "B", None),
    ]
