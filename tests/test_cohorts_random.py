"""Fixed-seed random mixes of behavioural segments and categories on every live engine against
the reference: random ``did`` / ``did_not`` lists with random thresholds, windows and filters,
named cohorts, categories over them, with random measures, grains and breakdowns."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.cohort_cases import COHORTS, NOW
from tests.segmentation_cases import ALL, c
from tests.test_cohorts import _run_and_compare, project_of

EVENTS = ["purchase", "payment", "login", "feature_used", "push_opened", "signup", "any"]
WINDOWS = [None, {"last": "30d"}, {"last": "14d"}, {"from": "2025-01-01", "to": "2025-02-01"}]
MEASURES = ["events", "unique_users", "wau", "events_per_user"]
SEED, COUNT, SPARK_COUNT = 20261206, 14, 3


def _condition(rng: random.Random) -> dict[str, Any]:
    event = rng.choice(EVENTS)
    spec: dict[str, Any] = {"event": event}
    window = rng.choice(WINDOWS)
    if window is not None:
        spec["date_range"] = window
    kind = rng.choice(["none", "events", "active_days", "value"])
    if kind == "events":
        spec["having"] = {"measure": "events", "op": rng.choice(["gte", "gt", "lte", "eq"]), "value": rng.randint(1, 4)}
    elif kind == "active_days":
        low = rng.randint(1, 8)
        spec["having"] = {"measure": "active_days", "op": "between", "values": [low, low + rng.randint(0, 10)]}
    elif kind == "value" and event in ("purchase", "payment"):
        prop = "revenue" if event == "purchase" else "amount"
        aggregate = rng.choice(["sum", "avg", "min", "max"])
        spec["having"] = {
            "measure": f"{aggregate}:{prop}",
            "op": rng.choice(["gte", "lt"]),
            "value": rng.choice([20, 50]),
        }
    if rng.random() < 0.2:
        spec["where"] = [c("platform", "eq", rng.choice(["web", "ios", "android"]))]
    return spec


def _segment(rng: random.Random) -> dict[str, Any]:
    segment: dict[str, Any] = {}
    for key in rng.sample(["did", "did_not", "cohort", "user_where"], rng.choice([1, 2, 2, 3])):
        if key == "cohort":
            segment[key] = rng.sample(sorted(COHORTS), rng.choice([1, 1, 2]))
        elif key == "user_where":
            segment[key] = [c("country", rng.choice(["eq", "neq"]), "US")]
        else:
            items = [_condition(rng) for _ in range(rng.choice([1, 1, 2]))]
            segment[key] = items[0] if len(items) == 1 else items
    return segment


def random_query(rng: random.Random) -> dict[str, Any]:
    query: dict[str, Any] = {
        "series": [{"event": rng.choice(EVENTS), "measure": rng.choice(MEASURES)}],
        "date_range": ALL,
        "time_grain": rng.choice(["week", "month", "total"]),
    }
    if rng.random() < 0.7:
        query["segment"] = _segment(rng)
    if rng.random() < 0.6 or "segment" not in query:
        labels = [{"label": f"g{i}", "segment": _segment(rng)} for i in range(rng.randint(1, 3))]
        query["categories"] = {"mix": {"of": labels, "else": "rest"}}
        query["breakdown"] = rng.choice([["mix"], ["mix", "platform"], ["country", "mix"]])
        if rng.random() < 0.3:
            query["breakdown_limit"] = 3
    return query


QUERIES = [random_query(random.Random(SEED + i)) for i in range(COUNT)]


@pytest.mark.parametrize("index", range(COUNT))
def test_random_mix_equals_the_oracle(generated: Any, index: int) -> None:
    if generated.backend == "spark" and index >= SPARK_COUNT:
        pytest.skip(f"Spark runs the first {SPARK_COUNT} (one JVM, slow per query)")
    query = QUERIES[index]
    try:
        _run_and_compare(project_of(generated), generated, query)
    except AssertionError as exc:
        if "every value is 0 or null" in str(exc) or "the oracle returned no rows" in str(exc):
            pytest.skip("this random mix selects nobody on the data (nothing to compare)")
        raise AssertionError(f"random mix {index}: {query}\n{exc}") from None


def test_the_mixes_are_not_vacuous(generated: Any) -> None:
    """Most random mixes select someone (so the comparisons above check something)."""
    if generated.backend != "duckdb":
        pytest.skip("a property of the cases; one engine is enough")
    from tests.test_cohorts import expected

    answered = sum(any(r["value"] for r in expected(generated, q)) for q in QUERIES)
    assert answered >= COUNT * 2 // 3, answered


__all__ = ["NOW", "QUERIES"]
