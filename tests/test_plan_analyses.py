"""The plan is the single source of truth for the analyses too: the behavioural conditions of the
per-unit reduction, stickiness, lifecycle, funnels and retention carry their events and filters as
typed predicates (sqlglot expressions), their windows, thresholds, edges and periods
(``plan_events``, ``plan``, ``plan_funnel``, ``plan_retention``); explain shows them; lowering
renders them: change the plan and the SQL follows it, not the query.

Planning is the same on every engine (the flavor only renders), so these run on DuckDB. The
expected instants are computed here from the contract (docs/queries.md: ranges are local days of
the project's time zone; a lifecycle reads from the bucket before the range), never from the
planner's helpers; what the results mean is checked by the oracle suites on every engine
(tests/test_cohorts*.py, test_stickiness.py, test_lifecycle.py, test_funnel.py, test_retention*.py).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from sqlglot import exp

import segwise
from segwise.lower import lower
from segwise.pipeline import _inputs, _optimized
from segwise.plan import ActiveDays, Activity, LogicalPlan, Statuses
from segwise.plan_events import Match
from segwise.plan_funnel import StepMatch
from segwise.plan_parts import time_range
from segwise.plan_retention import Cohorts, MemberJoin, ReturnPeriods
from segwise.plan_users import Join, user_tables
from tests.test_plan_parts import RANGE, project, utc

# the same project and range as the scans' parts: events login / purchase / page_view every 3 hours
# from 2024-12-20, platform ios / web, in Europe/Berlin, partitioned by day
__all__ = ["project"]


def _planned(project: segwise.Project, query: dict[str, Any]) -> tuple[Any, LogicalPlan, Any]:
    inputs = _inputs(query, project, None, None, True, "auto", (), "auto")
    bound, plan = _optimized(inputs, project)
    return bound, plan, inputs.flavor


def _sql(bound: Any, plan: LogicalPlan, flavor: Any) -> str:
    return str(flavor.render(lower(bound, plan, flavor)))


def _op(plan: LogicalPlan, kind: type) -> Any:
    assert plan.analysis is not None
    return next(op for op in plan.analysis.operators if isinstance(op, kind))


def _replaced(node: Any, field: str, value: Any) -> None:
    """Swap one operator of the analysis for a copy with ``field`` changed."""
    assert node is not None
    for i, op in enumerate(node.operators):
        if hasattr(op, field):
            node.operators[i] = dataclasses.replace(op, **{field: value})
            return
    raise AssertionError(field)


def _with_expression(match: Match, index: int, expression: exp.Expr) -> Match:
    """``match`` with its filter ``index`` rendered as ``expression`` (same condition, column)."""
    conditions = list(match.conditions)
    conditions[index] = dataclasses.replace(conditions[index], expression=expression)
    return dataclasses.replace(match, conditions=tuple(conditions))


def _platform(value: str) -> exp.Expr:
    return exp.EQ(this=exp.column("platform", quoted=True), expression=exp.Literal.string(value))


SEGMENT = {
    "did": {
        "event": "purchase",
        "where": [{"property": "platform", "op": "eq", "value": "ios"}],
        "date_range": {"from": "2025-01-01", "to": "2025-01-08"},
        "having": {"measure": "events", "op": "gte", "value": 4},
    },
    "did_not": {"event": {"any_of": ["login", "page_view"]}},
}


def test_cohort_conditions_are_typed(project) -> None:  # type: ignore[no-untyped-def]
    query = {"series": [{"event": "login", "measure": "unique_users"}], "date_range": RANGE, "segment": SEGMENT}
    plan = segwise.plan(query, project)
    assert plan.cohort is not None
    did, did_not = plan.cohort.conditions
    assert (did.flag, did_not.flag) == (0, 1)
    assert did.match.events.sql == "\"event_name\" = 'purchase'"
    assert [p.sql for p in did.match.conditions] == ["\"platform\" = 'ios'"]
    assert did.window is not None and (did.window.start, did.window.end) == (
        utc(datetime(2025, 1, 1)),
        utc(datetime(2025, 1, 8)),
    )
    assert did.threshold is not None and str(did.threshold) == "events >= 4"
    assert did_not.window is None and did_not.threshold is None and did_not.match.conditions == ()
    assert did_not.match.events.sql == "\"event_name\" IN ('login', 'page_view')"
    text = "\n".join(plan.describe())
    assert "_f0" in text and "\"platform\" = 'ios'" in text and "events >= 4" in text
    data = plan.to_json()["cohort"]["conditions"]
    assert [c["flag"] for c in data] == ["_f0", "_f1"]
    assert data[0]["window"]["sql"] == did.window.sql and data[0]["threshold"] == "events >= 4"
    assert data[0]["match"]["conditions"] == [{"text": "platform eq", "sql": "\"platform\" = 'ios'"}]


def test_the_reduction_renders_from_the_plan(project) -> None:  # type: ignore[no-untyped-def]
    """Change a condition's window, filter and threshold in the plan: the SQL follows."""
    query = {"series": [{"event": "login", "measure": "unique_users"}], "date_range": RANGE, "segment": SEGMENT}
    bound, plan, flavor = _planned(project, query)
    before = _sql(bound, plan, flavor)
    assert "2024-12-31 23:00:00" in before and "'ios'" in before and ">= 4" in before
    assert plan.cohort is not None
    scan = plan.cohort.scans[0]
    did = scan.conditions[0]
    assert did.threshold is not None
    tables = list(plan.analysis.scan.tables if plan.analysis else plan.nodes[0].scan.tables)
    moved = dataclasses.replace(
        did,
        window=time_range(flavor, tables, datetime(2025, 1, 2, 5, 30), datetime(2025, 1, 9, 17, 15)),
        match=_with_expression(did.match, 0, _platform("web")),
        threshold=dataclasses.replace(did.threshold, value=7),
    )
    scans = (dataclasses.replace(scan, conditions=(moved, *scan.conditions[1:])),)
    plan.cohort = dataclasses.replace(plan.cohort, scans=scans)
    after = _sql(bound, plan, flavor)
    assert "2025-01-02 05:30:00" in after and "2025-01-09 17:15:00" in after
    assert "2024-12-31 23:00:00" not in after
    assert "'web'" in after and "'ios'" not in after
    assert ">= 7" in after and ">= 4" not in after


def test_stickiness_and_lifecycle_carry_their_events(project) -> None:  # type: ignore[no-untyped-def]
    where = [{"property": "platform", "op": "eq", "value": "ios"}]
    common = {"date_range": RANGE, "time_grain": "week"}
    sticky = segwise.plan({"stickiness": {"event": "login", "where": where}, **common}, project)
    days = _op(sticky, ActiveDays)
    assert days.grain == "week" and days.events.events.names == ("login",)
    assert [p.sql for p in days.events.conditions] == ["\"platform\" = 'ios'"]
    assert "\"platform\" = 'ios'" in "\n".join(sticky.describe())
    life = segwise.plan({"lifecycle": {"event": "login", "where": where}, **common}, project)
    activity, statuses = _op(life, Activity), _op(life, Statuses)
    # Monday weeks: the bucket before the range starts on Monday 30 December, local
    assert (activity.start, activity.end) == (utc(datetime(2024, 12, 30)), utc(datetime(2025, 1, 27)))
    assert statuses.edges == tuple(datetime(2024, 12, 30) + timedelta(weeks=k) for k in range(5))
    assert [p.sql for p in activity.events.conditions] == ["\"platform\" = 'ios'"]
    operators = life.to_json()["analysis"]["operators"]
    parts = next(op["parts"] for op in operators if op["kind"] == "Activity")
    assert parts["events"]["conditions"][0]["sql"] == "\"platform\" = 'ios'"


def test_stickiness_and_lifecycle_render_from_the_plan(project) -> None:  # type: ignore[no-untyped-def]
    where = [{"property": "platform", "op": "eq", "value": "ios"}]
    common = {"date_range": RANGE, "time_grain": "week"}
    bound, plan, flavor = _planned(project, {"stickiness": {"event": "login", "where": where}, **common})
    assert "'ios'" in _sql(bound, plan, flavor)
    _replaced(plan.analysis, "events", _with_expression(_op(plan, ActiveDays).events, 0, _platform("web")))
    after = _sql(bound, plan, flavor)
    assert "'web'" in after and "'ios'" not in after

    bound, plan, flavor = _planned(project, {"lifecycle": {"event": "login"}, **common})
    before = _sql(bound, plan, flavor)
    assert "2024-12-29 23:00:00" in before  # the bucket before the range, in UTC
    _replaced(plan.analysis, "start", datetime(2024, 12, 23, 4, 45))
    after = _sql(bound, plan, flavor)
    assert "2024-12-23 04:45:00" in after and "2024-12-29 23:00:00" not in after


FUNNEL = {
    "steps": [
        {"event": "login"},
        {"event": "purchase", "where": [{"property": "platform", "op": "eq", "value": "ios"}]},
    ],
    "exclude": [{"event": "page_view"}],
    "window": "2d",
}


def test_a_funnel_renders_its_steps_from_the_plan(project) -> None:  # type: ignore[no-untyped-def]
    bound, plan, flavor = _planned(project, {"funnel": FUNNEL, "date_range": RANGE})
    match = _op(plan, StepMatch)
    assert [s.events.names for s in match.steps] == [("login",), ("purchase",)]
    assert [p.sql for p in match.steps[1].conditions] == ["\"platform\" = 'ios'"]
    assert match.window_delta == timedelta(days=2)
    assert [(x.events.events.names, x.after, x.before) for x in match.exclude] == [(("page_view",), 1, 2)]
    assert match.events.events.names == ("login", "purchase", "page_view")
    text = "\n".join(plan.describe())
    assert "steps[1]" in text and "exclude[0]" in text and "\"platform\" = 'ios'" in text
    before = _sql(bound, plan, flavor)
    two_days = str(2 * 86_400 * 1_000_000)
    assert "'ios'" in before and two_days in before
    steps = (match.steps[0], _with_expression(match.steps[1], 0, _platform("web")))
    _replaced(plan.analysis, "steps", steps)
    _replaced(plan.analysis, "window_delta", timedelta(hours=5))
    after = _sql(bound, plan, flavor)
    assert "'web'" in after and "'ios'" not in after
    assert str(5 * 3_600 * 1_000_000) in after and two_days not in after


def test_retention_renders_its_events_and_periods_from_the_plan(project) -> None:  # type: ignore[no-untyped-def]
    retention = {
        "start": {"event": "login", "where": [{"property": "platform", "op": "eq", "value": "ios"}]},
        "return": "purchase",
        "periods": 3,
    }
    query = {"retention": retention, "date_range": RANGE, "time_grain": "week"}
    bound, plan, flavor = _planned(project, query)
    cohorts, periods = _op(plan, Cohorts), _op(plan, ReturnPeriods)
    assert cohorts.start.events.names == ("login",) and cohorts.returning.events.names == ("purchase",)
    assert [p.sql for p in cohorts.start.conditions] == ["\"platform\" = 'ios'"]
    assert (periods.periods, periods.cumulative, periods.rolling) == (3, False, None)
    assert "\"platform\" = 'ios'" in "\n".join(plan.describe())
    before = _sql(bound, plan, flavor)
    assert "'ios'" in before
    _replaced(plan.analysis, "start", _with_expression(cohorts.start, 0, _platform("web")))
    after = _sql(bound, plan, flavor)
    assert "'web'" in after and "'ios'" not in after


def test_retention_groups_by_the_plans_keys(project) -> None:  # type: ignore[no-untyped-def]
    retention = {"start": "login", "return": "purchase", "periods": 2}
    query = {"retention": retention, "date_range": RANGE, "time_grain": "week", "breakdown": ["platform"]}
    bound, plan, flavor = _planned(project, query)
    assert plan.group_by is not None and [k.kind for k in plan.group_by.keys] == ["event_property"]
    before = _sql(bound, plan, flavor)
    assert '"platform"' in before and '"country"' not in before
    # the key swapped by hand for the user property country: read from the users joined late
    country = bound.catalog.resolve("country", "test")
    key = dataclasses.replace(plan.group_by.keys[0], name="country", kind="user_property", prop=country)
    plan.group_by = dataclasses.replace(plan.group_by, keys=(key,))
    assert plan.analysis is not None  # and the plan joins the users to the cohort members for it
    plan.analysis.operators.insert(1, MemberJoin(user_tables(bound.catalog, [country]), names=("country",)))
    after = _sql(bound, plan, flavor)
    assert '"country"' in after and '"_lu0"' in after and '"platform"' not in after


def test_a_funnel_holds_the_plans_properties(project) -> None:  # type: ignore[no-untyped-def]
    funnel = {"steps": [{"event": "login"}, {"event": "purchase"}], "window": "2d", "hold": ["platform"]}
    bound, plan, flavor = _planned(project, {"funnel": funnel, "date_range": RANGE})
    match = _op(plan, StepMatch)
    assert [(p.name, p.column) for p in match.hold] == [("platform", "platform")]
    before = _sql(bound, plan, flavor)
    assert '"platform"' in before and '"country"' not in before
    # the held property swapped by hand for the user property country
    country = bound.catalog.resolve("country", "test")
    _replaced(plan.analysis, "hold", (country,))
    assert plan.analysis is not None  # and the plan joins the users for it
    plan.analysis.operators.insert(0, Join(user_tables(bound.catalog, [country])))
    after = _sql(bound, plan, flavor)
    assert '"country"' in after and '"platform"' not in after


def test_retention_numbers_the_plans_buckets(project) -> None:  # type: ignore[no-untyped-def]
    query = {"retention": {"start": "login", "return": "purchase", "periods": 2}, "date_range": RANGE}
    query["time_grain"] = "week"
    bound, plan, flavor = _planned(project, query)
    periods = _op(plan, ReturnPeriods)
    # three weekly cohorts (Jan 6, 13, 20) and two periods after the last: five numbered buckets
    assert periods.frame.buckets == (*[datetime(2025, 1, d) for d in (6, 13, 20, 27)], datetime(2025, 2, 3))
    assert periods.buckets == 5
    before = _sql(bound, plan, flavor)
    assert "2025-02-03" in before and "2031-05-05" not in before
    # the last numbered bucket moved by hand: the constant table of the SQL follows the plan
    moved = dataclasses.replace(periods.frame, buckets=(*periods.frame.buckets[:-1], datetime(2031, 5, 5)))
    _replaced(plan.analysis, "frame", moved)
    after = _sql(bound, plan, flavor)
    assert "2031-05-05" in after and "2025-02-03" not in after
