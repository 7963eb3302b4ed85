"""Fixed-seed random queries mixing the advanced options, on top of the shared suite's generator
(``tests/segmentation_cases.py``); see ``tests/test_advanced.py``."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest

from tests.segmentation_cases import EDGE_RANDOM, GENERATED_RANDOM, random_condition, random_query

# ---------------------------------------------------------------------------------------------------
# fixed-seed random queries mixing the advanced options (on top of the shared suite's generator)

ADVANCED_RANDOM = {
    "edge": {
        "per_user": ["user_avg:events", "user_max:sum:x", "user_median:events", "user_p75:sum:n", "user_min:events"],
        "user_where": [("cohort", "is_null", None), ("cohort", "in", ["Z", "z", "é"]), ("user.cohort", "neq", "a_b")],
    },
    "generated": {
        "per_user": ["user_avg:events", "user_max:sum:revenue", "user_median:events", "user_p90:sum:amount"],
        "user_where": [
            ("country", "eq", "US"),
            ("subscription_type", "in", ["pro", "enterprise"]),
            ("user.platform", "is_null", None),
            ("account_type", "neq", "personal"),
        ],
    },
}
FORMULA_SHAPES = ["{0} / {1}", "({0} + {1}) * 2", "-{0} + 1.5", "{0} / ({1} - {0})", "{0} * 100 / {1}", "{0} - {0}"]


def advanced_random_query(rng: random.Random, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A random query of the shared suite's generator, with occurrence, per-user measures,
    frequency, segments (restricting or as a breakdown), compare and formulas mixed in."""
    base = EDGE_RANDOM if name == "edge" else GENERATED_RANDOM
    extra = ADVANCED_RANDOM[name]
    query, options = random_query(rng, **base)
    rolling = {"dau", "wau", "mau"}
    for one in query["series"]:
        if rng.random() < 0.25:
            one["measure"] = rng.choice(extra["per_user"])
        measure = one["measure"]
        if rng.random() < 0.3 and measure not in rolling and not measure.startswith("active_users"):
            one["occurrence"] = rng.choice(["first", "last"])
            if rng.random() < 0.5:
                one["occurrence_scope"] = "range"
    if rng.random() < 0.35:
        segment: dict[str, Any] = {}
        for key in rng.sample(["did", "did_not", "user_where"], rng.choice([1, 1, 2])):
            if key == "user_where":
                prop, op, value = rng.choice(extra["user_where"])
                segment[key] = [random_condition(rng, [(prop, op, value)])]
                continue
            spec: dict[str, Any] = {"event": rng.choice([*base["events"], "any"])}
            if rng.random() < 0.4:
                spec["where"] = [random_condition(rng, base["conditions"])]
            if rng.random() < 0.5:
                start = rng.choice(base["starts"])
                spec["date_range"] = rng.choice(
                    [
                        {"from": start, "to": start + timedelta(days=rng.choice([2, 9]))},
                        {"last": rng.choice(["5d", "2w"])},
                    ]
                )
            segment[key] = spec
        query["segment"] = segment
        if rng.random() < 0.4:
            query["breakdown"] = ["segment", *(query.get("breakdown") or [])[:1]]
    labels = [chr(ord("A") + i) for i in range(len(query["series"]))]
    if rng.random() < 0.3:
        query["compare"] = "previous_period"
    if rng.random() < 0.35:
        shape = rng.choice(FORMULA_SHAPES)
        query["formulas"] = [{"label": "f", "expression": shape.format(rng.choice(labels), rng.choice(labels))}]
    if rng.random() < 0.1:  # frequency stands alone
        query["series"] = [{**query["series"][0], "measure": "frequency"}]
        query.pop("formulas", None)
        query.pop("compare", None)
    return query, options


@pytest.mark.parametrize("seed", range(40))
def test_random_advanced_edge(edge, seed):
    query, options = advanced_random_query(random.Random(5000 + seed), "edge")
    edge.check(query, **options)


@pytest.mark.parametrize("seed", range(30))
def test_random_advanced_generated(generated, seed):
    query, options = advanced_random_query(random.Random(7000 + seed), "generated")
    generated.check(query, **options)
