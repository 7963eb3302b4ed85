"""Rolling active users at the edges of the day bitmask (rule ``rolling``): by per-user masks of
128-bit words on DuckDB and 63-bit words on PostgreSQL (one word, several words with a carry
between them, the window at its limits), elsewhere by intervals; every live engine against the
oracle on the generated data (events 2025-01-01 .. 2025-03-01), and the plan's form and its
reason per engine."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

import segwise
from tests.conftest import declared_gaps
from tests.segmentation_cases import nontrivial, q, s

# day-mask word width: UHUGEINT, BIGINT without its sign bit, UInt128
WORDS = {"duckdb": 128, "postgresql": 63, "chdb": 128}
YEAR = {"from": date(2024, 6, 1), "to": date(2025, 6, 1)}  # 365 days; day 128 before the end is 2025-01-23

# name -> (query, options)
CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # 122 days + 6 look-back = exactly one word; the first look-back day (bit 127) is 2025-01-01
    "one_word_exactly": (q(s("any", "wau"), rng={"from": date(2025, 1, 7), "to": date(2025, 5, 9)}), {}),
    # one day more: the first look-back day is bit 0 of a second word and carries into the first
    "one_word_and_a_day": (q(s("any", "wau"), rng={"from": date(2025, 1, 7), "to": date(2025, 5, 10)}), {}),
    "year_dau": (q(s("any", "dau"), rng=YEAR), {}),
    "year_wau": (q(s("login", "wau"), rng=YEAR), {}),
    "year_mau": (q(s("any", "mau"), rng=YEAR), {}),
    "year_mau_week_top2": (q(s("any", "mau"), grain="week", rng=YEAR, breakdown=["platform"], breakdown_limit=2), {}),
    "year_wau_week_user_country": (q(s("page_view", "wau"), grain="week", rng=YEAR, breakdown=["country"]), {}),
    "year_wau_month_new_york": (q(s("any", "wau"), grain="month", rng=YEAR), {"timezone": "America/New_York"}),
    "year_wau_day_kolkata": (q(s("any", "wau"), rng=YEAR), {"timezone": "Asia/Kolkata"}),
    # the widest window words can carry (64 days), over 4 words
    "year_64d_total": (
        q(s("any", "active_users:64d"), grain="total", rng={"from": date(2024, 3, 15), "to": date(2025, 3, 15)}),
        {},
    ),
    # a wider window over several words: intervals
    "year_65d_week": (q(s("any", "active_users:65d"), grain="week", rng=YEAR), {}),
    # PostgreSQL's widest window over several words (31 days), and one day more
    "year_31d_week": (q(s("any", "active_users:31d"), grain="week", rng=YEAR), {}),
    "year_32d_week": (q(s("any", "active_users:32d"), grain="week", rng=YEAR), {}),
    # 57 days + 6 look-back: exactly one 63-bit word; and one more
    "pg_word_exactly": (q(s("any", "wau"), rng={"from": date(2025, 1, 7), "to": date(2025, 3, 5)}), {}),
    "pg_word_and_a_day": (q(s("any", "wau"), rng={"from": date(2025, 1, 7), "to": date(2025, 3, 6)}), {}),
    # a 128-day window in one word (the spread shifts by up to 127 bits)
    "window_of_a_word": (
        q(s("any", "active_users:128d"), grain="total", rng={"from": date(2025, 3, 1), "to": date(2025, 3, 2)}),
        {},
    ),
}


def _days_and_window(query: dict[str, Any]) -> tuple[int, int]:
    """Days read (range + look-back) and window of a case, from its query alone."""
    measure = query["series"][0]["measure"]
    window = {"dau": 1, "wau": 7, "mau": 30}.get(measure) or int(measure.split(":")[1].rstrip("d"))
    rng = query["date_range"]
    return (rng["to"] - rng["from"]).days + window - 1, window


@pytest.mark.parametrize("case", list(CASES))
def test_rolling_mask_edges(generated, case):
    query, options = CASES[case]
    nontrivial(generated.check(query, **options))


@pytest.mark.parametrize("case", list(CASES))
def test_form_and_reason(generated, case):
    """Masks when the days fit one word, or the window is at most half a word; the plan says how
    many words. Engines without a mask word: intervals, because the dialect has no day bitmask."""
    query, options = CASES[case]
    project = generated.project(options.get("timezone", "UTC"))
    if declared_gaps(project, query):  # refused cleanly: test_rolling_mask_edges checks that
        pytest.skip(f"{generated.backend} declares no support for this query")
    plan = segwise.plan(query, project)
    (decision,) = [d for d in plan.decisions if "rolling users by" in d]
    kinds = {op.kind for node in plan.nodes for op in node.operators}
    days, window = _days_and_window(query)
    word = WORDS.get(generated.backend)
    if word is None:
        assert "by intervals" in decision and "has no day bitmask" in decision
        assert "Intervals" in kinds and "DayMask" not in kinds
    elif days <= word or window <= word // 2:
        words = -(-days // word)
        assert f"{days} days of range + look-back in {words} {word}-bit word" in decision
        assert "DayMask" in kinds and "Intervals" not in kinds
    else:
        assert "by intervals" in decision and f"a {window}-day window exceeds the {word // 2} days" in decision
        assert "Intervals" in kinds and "DayMask" not in kinds


def test_cases_cover_the_edges():
    """For each mask width the cases reach one full word, one word and a day, several words, and
    both sides of the window limit."""
    shapes = [_days_and_window(query) for query, _options in CASES.values()]
    for word in WORDS.values():
        assert (word, 7) in shapes and (word + 1, 7) in shapes
        assert any(days > 3 * word for days, _w in shapes)
        assert {word // 2, word // 2 + 1} <= {w for _d, w in shapes}
    assert {w for _d, w in shapes} >= {1, 7, 30, 128}
