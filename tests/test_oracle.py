"""The oracle checked against answers worked out by hand on a dozen events.

Every expected value below was computed by reading the table in ``EVENTS`` (see the comments),
not by running any code, so that the oracle the shared suite trusts is itself trustworthy.

2025-01-01 is a Wednesday; 2025-01-05 a Sunday; 2025-01-06 a Monday.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from tests.oracle import oracle
from tests.oracle_cases import EVENTS, USERS, VIEW, WEEK, D, run, total, utc, values
from tests.oracle_conditions import breakdown_text
from tests.oracle_measures import percentile_cont
from tests.oracle_time import date_range

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


# -- measures (views in WEEK: see tests/oracle_cases.py) ---------------------------------------------


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
