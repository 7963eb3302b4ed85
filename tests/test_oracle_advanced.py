"""The oracle against hand-worked answers: the advanced series (occurrence, formulas, per-user
measures, frequency, segments, compare to the previous period, several event tables) on the events
of ``tests/oracle_cases.py``."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from tests.oracle import merge_event_tables, oracle, oracle_tables
from tests.oracle_cases import ACME_VIEWS, EVENTS, USERS, VIEW, WEEK, D, run, total, utc, values
from tests.oracle_measures import evaluate_formula

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
