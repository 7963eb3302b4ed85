"""The list form of ordered funnels (``segwise.lower.funnel_lists``; DuckDB, ``Capabilities.ordered_lists``):
the same cases as tests/test_funnel.py, the hand-built edge cases and many-step funnels with
exclusions and held values, the form forced for each, against the plain-Python oracle; and the
planner's choice of the form (``plan_funnel.choose_form``), shown in ``explain``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

import segwise
from segwise import planner
from segwise.explain import Explanation
from segwise.pipeline import COMPILED, compile_query
from segwise.plan_funnel import LIST_MIN_STEPS, choose_form
from tests.conftest import _load, generated_tables
from tests.oracle_funnel import funnel_oracle
from tests.test_funnel import CASES, EVENTS, assert_funnel, f, hand_dataset, random_query
from tests.test_funnel import test_a_range_without_events as a_range_without_events
from tests.test_funnel import test_events_at_or_after_now_are_ignored as events_at_or_after_now
from tests.test_funnel import test_hand_built_exclusions as hand_built_exclusions
from tests.test_funnel import test_hand_built_hold_and_other as hand_built_hold_and_other
from tests.test_funnel import test_hand_built_ordered_cases as hand_built_ordered_cases


@pytest.fixture(scope="module")
def duck(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    users, events = generated_tables()
    dataset = _load("generated", "duckdb", tmp_path_factory, {"events": events, "users": users}, "event_name")
    yield dataset
    dataset.close()


@pytest.fixture(scope="module")
def duck_hand(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    dataset = hand_dataset("duckdb", tmp_path_factory)
    yield dataset
    dataset.close()


@pytest.fixture
def lists(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The planner takes the list form wherever it may (ordered; not hold with exclusions)."""

    def forced(order: str, steps: int, held: bool, exclusions: int, *rest: Any) -> tuple[str, str]:
        if order == "ordered" and not (held and exclusions):
            return "lists", "forced by the test"
        return choose_form(order, steps, held, exclusions, *rest)

    monkeypatch.setattr(planner, "choose_form", forced)
    COMPILED.clear()  # no statement compiled in another form
    yield
    COMPILED.clear()


def _sql_form(project: segwise.Project, query: dict[str, Any]) -> str:
    """Which form the statement has: ``lists`` (ordered lists), ``asof`` or ``window``."""
    sql = project.compile(query).upper()
    if "ARRAY_AGG" in sql:
        return "lists"
    return "asof" if "ASOF" in sql else "window"


def _check(project: segwise.Project, dataset: Any, query: dict[str, Any]) -> None:
    expected = funnel_oracle(query, dataset.events.to_pylist(), dataset.users.to_pylist())
    assert_funnel(segwise.run(query, project), expected, query)
    assert any(r["step"] > 1 and r["count"] for r in expected), "a case that checks little"
    ordered = query["funnel"].get("order", "ordered") == "ordered"
    plain = not (query["funnel"].get("hold") and query["funnel"].get("exclude"))
    assert _sql_form(project, query) == ("lists" if ordered and plain else "window" if not ordered else "asof")


TEN = ["page_view", "feature_used", "login", "page_view", "purchase"] * 2
MANY: dict[str, dict[str, Any]] = {
    "ten steps, exclusions after steps 1 and 3": f(
        *TEN,
        spec={
            "window": "2w",
            "exclude": [
                {"event": "push_sent", "after_step": 3, "before_step": 7},
                {"event": "payment", "after_step": 1, "before_step": 2},
            ],
        },
    ),
    "ten steps weekly by country top 2": f(
        *TEN, spec={"window": "1w"}, time_grain="week", breakdown=["country"], breakdown_limit=2
    ),
    "nine steps held platform": f(*TEN[:9], spec={"window": "2w", "hold": ["platform"]}),
    "twelve steps, an exclusion to the end, by platform": f(
        *(TEN + TEN[:2]),
        spec={"window": "3w", "exclude": [{"event": "push_opened", "after_step": 2}]},
        breakdown=["event.platform"],
    ),
}


@pytest.mark.parametrize("name", [n for n, q in CASES.items() if q["funnel"].get("order") != "any"] + list(MANY))
def test_list_form_equals_the_oracle(duck: Any, lists: None, name: str) -> None:
    _check(duck.project(), duck, {**CASES, **MANY}[name])


@pytest.mark.parametrize("seed", range(12))
def test_random_funnels_in_the_list_form(duck: Any, lists: None, seed: int) -> None:
    query = random_query(seed)
    if query["funnel"]["order"] == "any":  # the list form is for ordered funnels: more steps instead
        query["funnel"] = {**query["funnel"], "order": "ordered", "steps": [{"event": e} for e in EVENTS[:5] * 2]}
    _check(duck.project(), duck, query)


def test_hand_built_cases_in_the_list_form(duck_hand: Any, lists: None) -> None:
    query = f("view", "cart", "purchase", rng={"from": date(2025, 3, 1), "to": date(2025, 3, 8)})
    assert _sql_form(duck_hand.project(), query) == "lists"
    hand_built_ordered_cases(duck_hand)
    hand_built_exclusions(duck_hand)
    hand_built_hold_and_other(duck_hand)
    events_at_or_after_now(duck_hand)
    for breakdown in ([], ["case"]):
        a_range_without_events(duck_hand, breakdown)


def test_the_planner_takes_the_list_form_for_many_steps(duck: Any) -> None:
    """DuckDB: the generated data's 20-step funnel in lists, the 4-step by ASOF joins; hold with an
    exclusion stays ASOF; ``explain`` shows the operator and the decision."""
    COMPILED.clear()
    project = duck.project()
    twenty = f(*(TEN * 2), spec={"window": "2w"})
    assert _sql_form(project, twenty) == "lists"
    text = "\n".join(Explanation.of(project, compile_query(project, twenty)).to_text())
    assert "ordered lists per (unit)" in text and "follow steps 2..20 by subscripts" in text, text
    assert f"funnel (duckdb): 20 steps >= {LIST_MIN_STEPS}: per-unit ordered lists" in text, text
    assert _sql_form(project, f(*TEN[:4], spec={"window": "1w"})) == "asof"
    held = f(*(TEN * 2), spec={"window": "2w", "hold": ["platform"], "exclude": [{"event": "push_sent"}]})
    assert _sql_form(project, held) == "asof"
    _check(project, duck, twenty)


def test_choose_form_weighs_the_rows_per_unit() -> None:
    units = lambda: 1_000  # noqa: E731
    both = (True, True)
    assert choose_form("ordered", 20, False, 0, both, 100_000, 10_000, units)[0] == "lists"
    # 10,000 attempts x 1,000 rows per unit > 100,000 rows x 19 steps: the join copying lists costs more
    assert choose_form("ordered", 20, False, 0, both, 100_000, 10_000, lambda: 100)[0] == "asof"
    assert choose_form("ordered", LIST_MIN_STEPS - 1, False, 0, both, 100_000, 10_000, units)[0] == "asof"
    assert choose_form("ordered", 20, False, 0, (False, False), 100_000, 10_000, units)[0] == "window"
    assert choose_form("any", 20, False, 0, both, 100_000, 10_000, units)[0] == "window"
    assert choose_form("ordered", 20, True, 1, both, 100_000, 10_000, units)[0] == "asof"
    read: list[int] = []

    def counted() -> int:
        read.append(1)
        return 1_000

    choose_form("ordered", 3, False, 0, both, 100_000, 10_000, counted)
    assert not read  # the catalog is not asked below LIST_MIN_STEPS
    choose_form("ordered", 20, False, 0, both, 100_000, 10_000, counted)
    assert read == [1]
