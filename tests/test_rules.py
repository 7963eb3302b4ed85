"""Rules are functions ``rule(plan, context) -> plan`` that leave the plan they are given as it
was, and the optimizer applies them in the order of ``planner.RULES``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from segwise.bind import bind
from segwise.cost import load_coefficients
from segwise.planner import RULES, build, optimize
from segwise.query import Query
from segwise.rules.context import Context
from segwise.timeframe import resolve_timeframe

QUERIES = {
    "shared scan": {
        "series": [{"event": "login", "measure": "unique_users"}, {"event": "purchase", "measure": "sum:revenue"}],
        "date_range": {"from": "2025-01-10", "to": "2025-02-10"},
        "time_grain": "week",
    },
    "top-N by a user property": {
        "series": [{"event": "page_view", "measure": "unique_users"}, {"event": "purchase", "measure": "events"}],
        "date_range": {"from": "2025-01-10", "to": "2025-02-10"},
        "breakdown": ["platform"],
        "breakdown_limit": 2,
    },
    "rolling": {
        "series": [{"event": "login", "measure": "wau"}],
        "date_range": {"from": "2025-01-10", "to": "2025-02-10"},
    },
}


def _context(generated: Any, query: dict[str, Any]) -> tuple[Any, Context]:
    project = generated.project("UTC", "monday")
    q = Query.parse(query)
    flavor = project.adapter().flavor
    bound = bind(project, project.catalog(), q, resolve_timeframe(q, "UTC", 0, None), flavor)
    return bound, Context(bound, load_coefficients(project, flavor.name), share_scans="always", preaggregate="always")


@pytest.mark.parametrize("name", list(QUERIES))
def test_every_rule_leaves_its_input_plan_unchanged(generated: Any, name: str) -> None:
    if generated.backend != "duckdb":
        pytest.skip("a planning property; one engine is enough")
    bound, context = _context(generated, QUERIES[name])
    plan = build(bound)
    for rule_name, rule in RULES:
        before = (plan.describe(), plan.to_json(), list(plan.decisions), [list(n.operators) for n in plan.nodes])
        after = rule(plan, context)
        assert (
            plan.describe(),
            plan.to_json(),
            list(plan.decisions),
            [list(n.operators) for n in plan.nodes],
        ) == before, rule_name
        plan = after


def test_the_optimizer_applies_the_rules_in_order(generated: Any) -> None:
    if generated.backend != "duckdb":
        pytest.skip("a planning property; one engine is enough")
    bound, context = _context(generated, QUERIES["shared scan"])
    plan = optimize(build(bound), context)
    assert plan.rules == [name for name, _rule in RULES]
    assert plan.shared, "share_scans=always shares the two series' scan"


def test_lowering_places_the_plans_condition_expressions(generated: Any) -> None:
    """The plan is what lowering reads: a rule that rewrites a condition's predicate (here an
    ``IN`` of one value into ``=``) changes the SQL, and the answer stays the same."""
    if generated.backend != "duckdb":
        pytest.skip("a planning property; one engine is enough")
    from sqlglot import exp

    from segwise.pipeline import compile_query

    def one_value_in_as_eq(plan, context):
        plan = plan.copy()
        for node in plan.nodes:
            for i, predicate in enumerate(node.scan.filters):
                found = predicate.expression
                if isinstance(found, exp.In) and len(found.expressions) == 1:
                    eq = exp.EQ(this=found.this.copy(), expression=found.expressions[0].copy())
                    node.scan.filters[i] = replace(predicate, expression=eq)
        return plan

    project = generated.project("UTC", "monday")
    query = {
        "series": [{"event": "page_view", "where": [{"property": "platform", "op": "in", "values": ["web"]}]}],
        "date_range": {"from": "2025-01-10", "to": "2025-02-10"},
    }
    plain = compile_query(project, query)
    bound, context = _context(generated, query)
    rewritten = optimize(build(bound), context, (("one_value_in_as_eq", one_value_in_as_eq),))
    from segwise.lower import lower

    sql = project.adapter().flavor.render(lower(bound, rewritten, project.adapter().flavor))
    assert "IN ('web')" in plain.sql and "IN ('web')" not in sql and "= 'web'" in sql
    assert project.adapter().execute(sql).sort_by("bucket") == project.adapter().execute(plain.sql).sort_by("bucket")
