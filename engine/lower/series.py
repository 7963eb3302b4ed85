"""A plan node's series made concrete: its row source (raw events, a rollup, a per-user
reduction or a shared reduced scan, as the rules decided), its measured value and its group
expressions."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from sqlglot import exp

from segwise.plan import Aggregate, PreAggregate, Window
from segwise.plan_parts import Spine
from segwise.plan_users import event_join

from . import cohort, segment
from .rollup_rows import PreAggregatedSource, RollupSource, SharedReducedSource
from .rows import RowSource, TimeBounds, placement
from .state import SeriesPlan

if TYPE_CHECKING:
    from collections.abc import Collection

    from segwise.plan import AnalysisNode, SeriesNode
    from segwise.plan_events import Match

    from .state import Lowering


def series_plan(lw: Lowering, node: SeriesNode, position: int) -> SeriesPlan:
    series, measure, tf, label = node.series, node.measure, node.tf, node.label
    where = node.location  # how errors name the series (the planner's, from the bound query)
    source: RowSource
    reduced = lw.logical.shared_rows[node.shared_rows] if node.shared_rows is not None else None
    if node.scan.rollup is not None:
        source = RollupSource(lw, node.scan.rollup, series, tf, where)
        source.split = node.scan.rollup_split  # rule rollups' whole buckets and raw edges
    elif node.preaggregate:
        group = lw.shared_rows_group(node)
        # the shape the rule reduced the rows to (its dimensions and measures)
        reduction = next(op for op in node.operators if isinstance(op, PreAggregate) and op.reduces_events)
        info = reduction.shape
        assert info is not None, "rules preaggregate and sharing give the reduced shape"
        if group and reduced is not None:  # one reduced scan of every event of the group (rule sharing, top-N)
            source = SharedReducedSource(lw, info, series, tf, where, [(p, list(e), m) for p, e, m in reduced.reads])
            source.members = [m for _p, n in group for m in n.series.members]
        else:
            source = PreAggregatedSource(lw, info, series, tf, where, rolling=measure.is_rolling)
    else:
        source = RowSource(lw, series.members, list(series.where), tf, where, node.scan.tables)
    # The scan's tables, events, conditions and time range; a rolling count reads its look-back
    # (``scan.time``) where its lowering says, a first/last occurrence its window (``Window``).
    window = next((op for op in node.operators if isinstance(op, Window)), None)
    source.read_plan(node.scan, time=window is None and not node.has(Spine))
    source.users = event_join(node.operators)
    if reduced is not None:
        source.events = reduced.events
        for _p, other in lw.shared_rows_group(node) or []:  # the group's members: where their scans place them
            source.after_join = {**placement(other.scan), **(source.after_join or {})}
    source.prune = node.prune
    source.partition_time = node.partition_time
    if window is not None:
        source.occurrence = window.occurrence
        source.occurrence_bounds = TimeBounds(node.scan.time.start, node.scan.time.end) if node.scan.time else None
    plan = SeriesPlan(position, label, measure, source, tf)
    # the measured property as the plan's Aggregate carries it, resolved
    measured = next((op.prop for op in node.operators if isinstance(op, Aggregate)), None)
    if isinstance(source, RollupSource):
        # the columns the measure reads: rule rollups' for a rollup, rule preaggregate's or
        # sharing's for rows reduced to a shape (the plan's PreAggregate)
        reduced_read = next((op.read for op in node.operators if isinstance(op, PreAggregate) and op.read), None)
        measure_read = node.scan.rollup_read or reduced_read
        assert measure_read is not None, "rules rollups, preaggregate and sharing record the columns the measure reads"
        source.read = measure_read
        if isinstance(source, SharedReducedSource):  # its own conditional columns
            plan.rollup, plan.suffix = source.series_columns(position), str(position)
        else:
            plan.rollup = source.columns()
        if isinstance(source, PreAggregatedSource) and not measure.is_rolling and lw.users_unique_after_reduction():
            # reduced per (bucket, groups, user) and joined to one row per user: each user is
            # on at most one row of an output group, so counting users needs no DISTINCT
            plan.rollup = dataclasses.replace(plan.rollup, users_unique=True)
    if measured is not None and plan.rollup is None:  # bind checked it is a numeric property
        source.check_read(measured, f"{where} > measure")
        read = source.prop(measured)
        plan.value = exp.cast(read, exp.DataType.Type.DOUBLE) if measure.definition.numeric else read
    plan.groups = segmented_groups(lw, source)
    return plan


def segmented_groups(lw: Lowering, source: RowSource, skip: Collection[int] = ()) -> list[exp.Expr]:
    """The plan's segment applied to ``source`` (a filter, or the ``segment`` key's in / not in)
    and its group-by keys as text expressions (but those at positions ``skip``)."""
    restriction = lw.groups.segment
    if restriction is not None:
        membership = segment.segment(lw, source, restriction.segment)
        if not restriction.split:  # else the segment key splits instead of restricting
            source.extra_filters.append(membership)
    groups: list[exp.Expr] = []
    for key in lw.groups.keys:
        if key.position in skip:
            continue
        if key.kind == "event":
            groups.append(lw.flavor.as_text(source.event_name(), "string"))
        elif key.kind == "segment":
            assert restriction is not None, "a segment key comes with the segment"
            groups.append(
                exp.Case(
                    ifs=[exp.If(this=segment.segment(lw, source, restriction.segment), true=exp.Literal.string("in"))],
                    default=exp.Literal.string("not in"),
                )
            )
        elif key.category is not None:
            groups.append(cohort.category_group(lw, source, key.category))
        else:
            assert key.prop is not None, "a property key carries its resolved property"
            source.check_read(key.prop, f"breakdown[{key.position}]")
            groups.append(lw.flavor.as_text(source.prop(key.prop), key.prop.kind))
    return groups


def analysis_source(lw: Lowering, node: AnalysisNode, events: Match, *parts: Match) -> RowSource:
    """The row source of an analysis' scan reading the plan's ``events``, with the plan's
    decisions (pruning, the day column standing in) and the filters' expressions of ``events``
    and of the ``parts`` matched on its rows (steps, start and return events)."""
    source = RowSource(lw, list(events.members), list(events.where), node.tf, node.kind, node.scan.tables)
    source.read_plan(node.scan)
    source.users = event_join(node.operators)
    for match in (events, *parts):
        source.planned.update(match.planned)
    source.prune, source.partition_time = node.prune, node.partition_time
    return source


def distinct_per_user(lw: Lowering, source: RowSource, when: exp.Expr, alias: str, cte: str) -> list[str]:
    """A CTE ``cte``: distinct (user ``_u``, ``when`` as ``alias``, groups) of the source's rows
    that have a user id; returns the group columns' names."""
    groups = segmented_groups(lw, source)
    names = [f"_g{j}" for j in range(len(groups))]
    user = source.user()
    rows = source.select(
        [user.as_("_u"), when.as_(alias), *[g.as_(n) for g, n in zip(groups, names, strict=True)]], distinct=True
    )
    lw.ctes.append((cte, rows.where(exp.Not(this=exp.Is(this=user.copy(), expression=exp.Null())), copy=False)))
    return names
