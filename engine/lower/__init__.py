"""Lowering: an optimized logical plan -> one sqlglot expression for the target flavor.

One module per operator family, each a set of functions over the statement's
:class:`~segwise.lower.state.Lowering` state (the CTEs collected so far):

* ``series``      a plan node made concrete: its row source as the rules chose it (raw events,
                  rollup, per-user reduction, shared reduced scan), value and groups;
* ``rows``, ``rollup_rows``  row sources: pruned scans, ``UNION ALL`` of tables, user joins;
* ``aggregate``   plain aggregates, ``GROUP BY bucket, groups``;
* ``topn``        rank, materialized rows or partials, ``Other`` mapping;
* ``peruser``     per-user measures and frequency (two levels);
* ``rolling``     rolling active users by interval edges; ``rolling_mask`` by per-user day
                  bitmasks (the plan's ``DayMask``, rule ``rolling``);
* ``shared``      several series from one scan (conditional aggregates);
* ``segment``     segment membership; ``measure_sql`` a measure's aggregate;
* ``stickiness``  the stickiness analysis (days active per user and bucket);
* ``lifecycle``   the lifecycle analysis (new, returning, resurrecting, dormant per bucket);
* ``funnel``, ``funnel_steps``  the funnel analysis (steps matched per unit in one window pass);
* ``retention``, ``retention_rolling``  the retention analysis (cohorts and return periods per
  unit; rolling periods from each unit's start time).

The statement returns long-form rows ``series, bucket, _g0.._gN, [_f,] value`` for every
non-empty (series, breakdown values, bucket); shaping fills the rest in Arrow. Dialect
differences live in the flavor (``segwise.adapters``), never here. Lowering imports no rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlglot import exp

from segwise.plan import DayMask

from . import aggregate, funnel, lifecycle, peruser, retention_rolling, rolling, rolling_mask, shared, stickiness, topn
from .series import series_plan
from .state import Lowering, SeriesPlan

if TYPE_CHECKING:
    from segwise.adapters.base import SqlFlavor
    from segwise.bind import BoundQuery
    from segwise.plan import AnalysisNode, LogicalPlan


# The lowering of each measure family (``MeasureDefinition.family``).
FAMILIES: dict[str, Callable[[Lowering, SeriesPlan], exp.Select]] = {
    "aggregate": aggregate.series_select,
    "per_user": peruser.two_level_select,
    "frequency": peruser.two_level_select,
    "rolling": lambda lw, plan: _rolling_form(lw, plan)(lw, plan),
}


def _rolling_form(lw: Lowering, plan: SeriesPlan) -> Callable[[Lowering, SeriesPlan], exp.Select]:
    """Rolling users as the plan says: by day masks (``DayMask``) or by interval edges."""
    return rolling_mask.mask_select if lw.logical.nodes[plan.index].has(DayMask) else rolling.rolling_select


# The lowering of each analysis other than a segmentation (``AnalysisNode.kind``).
ANALYSES: dict[str, Callable[[Lowering, AnalysisNode], exp.Query]] = {
    "stickiness": stickiness.stickiness_select,
    "lifecycle": lifecycle.lifecycle_select,
    "funnel": funnel.funnel_select,
    "retention": retention_rolling.retention_query,
}


def lower(bound: BoundQuery, plan: LogicalPlan, flavor: SqlFlavor) -> exp.Expr:
    """The one statement answering ``plan`` (optimized for ``bound``), in ``flavor``."""
    lw = Lowering(bound, plan, flavor)
    if plan.analysis is not None:  # another analysis than a segmentation: its own lowering
        return _with_ctes(lw, ANALYSES[plan.analysis.kind](lw, plan.analysis))
    plans = [series_plan(lw, node, position) for position, node in enumerate(plan.nodes)]
    if lw.limit is not None:
        topn.rank_cte(lw, plans[0])
    assert plan.union is not None, "planner.build gives a segmentation its union of series"
    selects: list[exp.Expr] = []
    for branch in plan.union.branches:  # the plan's UNION ALL: a series, or the series of a shared scan
        node = plan.nodes[branch[0]]
        if node.shared is not None:
            group = plan.shared[node.shared]
            selects.append(shared.shared_select(lw, [plans[p] for p in group.positions], group))
        else:
            selects.append(_series_select(lw, plans[branch[0]]))
    statement = selects[0]
    for select in selects[1:]:
        statement = exp.union(statement, select, distinct=False, copy=False)
    return _with_ctes(lw, statement)


def _with_ctes(lw: Lowering, statement: exp.Expr) -> exp.Expr:
    if lw.ctes:
        keep = lw.keep if lw.flavor.capabilities.materialized_ctes else set()
        ctes = [
            exp.CTE(this=body, alias=exp.to_identifier(name), materialized=True if name in keep else None)
            for name, body in lw.ctes
        ]
        with_ = exp.With(expressions=ctes)
        statement.set("with_", with_)
    return statement


def _series_select(lw: Lowering, series: SeriesPlan) -> exp.Select:
    """The lowering of one series by its measure's family."""
    return FAMILIES[series.measure.definition.family](lw, series)
