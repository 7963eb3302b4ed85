"""Top-N breakdowns: the ``_rank`` CTE over the first series' groups, the matching rows (or
per-group partials) materialized as CTEs, and the mapping of groups beyond N to ``Other``
*before* aggregating (a user in two "other" groups counts once)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from sqlglot import exp

from segwise.plan import TopN

from . import measure_sql
from .rollup_rows import PreAggregatedSource, SharedReducedSource
from .rows import and_all, table_ref

if TYPE_CHECKING:
    from segwise.measures import RollupColumns

    from .state import Lowering, SeriesPlan

OTHER = "Other"


def partials(lw: Lowering, plan: SeriesPlan) -> str | None:
    """Top-N: the measure per (bucket, group) in a CTE ``p<i>`` when the groups' values combine
    (``group_combiner``), so the ranking and the ``Other`` mapping read one row per group instead of
    the matching rows; None otherwise."""
    if plan.partials is None and measure_sql.group_combiner(lw, plan.measure) is not None:
        rows = materialize(lw, plan)
        keys = [exp.column("_b", table=rows)] if not lw.bucketing.total else []
        keys += [exp.column(f"_g{j}", table=rows) for j in range(len(plan.groups))]
        names = (["_b"] if not lw.bucketing.total else []) + [f"_g{j}" for j in range(len(plan.groups))]
        user, value = exp.column("_u", table=rows), exp.column("_v", table=rows)
        partial = measure_sql.aggregate(lw, plan.measure, user, value, rollup_of(lw, plan, rows))
        select = exp.select(*[k.as_(n) for k, n in zip(keys, names, strict=True)], partial.as_("_p"), copy=False).from_(
            table_ref(rows), copy=False
        )
        if plan.suffix:  # rows of several series (rule sharing): those with this series' events
            matched = exp.column(f"_revents{plan.suffix}", table=rows)
            select = select.where(exp.GT(this=matched, expression=exp.Literal.number(0)), copy=False)
        if keys:
            select = select.group_by(*[k.copy() for k in keys], copy=False)
        plan.partials = f"p{plan.index}"
        lw.ctes.append((plan.partials, select))
    return plan.partials


def rank_cte(lw: Lowering, first: SeriesPlan) -> None:
    combine = measure_sql.group_combiner(lw, first.measure)
    # from the partials when they also add up across buckets (users recur across buckets)
    if combine is not None and (lw.bucketing.total or not first.measure.definition.combines_only_unique_users):
        table = partials(lw, first) or ""
        groups: list[exp.Expr] = [exp.column(f"_g{j}", table=table) for j in range(len(lw.groups.keys))]
        rank_select(lw, table, groups, combine(exp.column("_p", table=table)))
        return
    rows = materialize(lw, first)
    groups = [exp.column(f"_g{j}", table=rows) for j in range(len(lw.groups.keys))]
    rollup = rollup_of(lw, first, rows)
    top = next(op for op in lw.logical.nodes[first.index].operators if isinstance(op, TopN))
    if rollup is not None:
        # Each group is ranked over all buckets, so a user recurs unless the grain is total;
        # rows reduced per (groups, user) hold a user once per group whatever the breakdown
        # (the Other mapping comes after the rank).
        unique = (
            lw.bucketing.total
            and isinstance(first.source, PreAggregatedSource)
            and not first.source.rolling
            and top.users_are_units  # the plan's: another unit has several users, on several reduced rows
        )
        rollup = dataclasses.replace(rollup, users_unique=unique)
    agg = measure_sql.aggregate(lw, first.measure, exp.column("_u", table=rows), exp.column("_v", table=rows), rollup)
    rank_select(lw, rows, groups, agg)


def rank_select(lw: Lowering, table: str, groups: list[exp.Expr], agg: exp.Expr) -> None:
    """The CTE ``_rank``: each group of ``table`` numbered by ``agg``, largest first."""
    order = [exp.Ordered(this=agg, desc=True, nulls_first=False)]
    order += [exp.Ordered(this=lw.flavor.text_sort_key(g), nulls_first=False) for g in groups]
    rank = exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=order))
    select = (
        exp.select(*[g.as_(f"_g{j}") for j, g in enumerate(groups)], rank.as_("_rank"), copy=False)
        .from_(table_ref(table), copy=False)
        .group_by(*groups, copy=False)
    )
    lw.ctes.append(("_rank", select))


def materialize(lw: Lowering, plan: SeriesPlan) -> str:
    """Put the plan's matching rows in a CTE ``s<i>`` (user, bucket, groups, value); series
    whose rows are the same (the plan's ``SameRows``, rule ``materialize``) share one CTE, so one
    scan."""
    if plan.materialized is None:
        name = f"s{plan.index}"
        outputs: list[exp.Expr] = [plan.source.user().as_("_u")]
        if not lw.bucketing.total:
            outputs.append(plan.source.bucket().as_("_b"))
        outputs += [g.as_(f"_g{j}") for j, g in enumerate(plan.groups)]
        outputs.append((plan.value if plan.value is not None else exp.Null()).as_("_v"))
        node = lw.logical.nodes[plan.index]
        group = lw.shared_rows_group(node)
        if isinstance(plan.source, SharedReducedSource) and group:
            # every series' own columns (one CTE for all): its events' count, which also tells
            # its rows, and what its measure reads
            for p, n in group:
                needed = {"events", *n.measure.definition.rollup_inputs}
                columns = plan.source.series_columns(p)
                outputs += [c.as_(f"_r{kind}{p}") for kind, c in columns.items() if kind in needed]
        elif plan.rollup is not None:
            # what this measure reads, and what series over the same rows read (one CTE for all)
            same = next((s for s in lw.logical.same_rows if plan.index in s.positions), None)
            needed = set(same.inputs) if same is not None else set(node.measure.definition.rollup_inputs)
            outputs += [column.as_(f"_r{kind}") for kind, column in plan.rollup.items() if kind in needed]
        body = plan.source.select(outputs)
        if body in lw.materialized:  # the same tree (compared structurally, not rendered)
            plan.materialized = lw.materialized[body]
        else:
            lw.ctes.append((name, body))
            lw.materialized[body] = plan.materialized = name
    return plan.materialized


def rollup_of(lw: Lowering, plan: SeriesPlan, rows: str) -> RollupColumns | None:
    """The plan's rollup columns as materialized in CTE ``rows``."""
    if plan.rollup is None:
        return None
    return plan.rollup.materialized(rows, plan.suffix)


def mapped(lw: Lowering, groups: list[exp.Expr]) -> list[exp.Expr]:
    """``CASE WHEN _rank._rank <= N THEN g ELSE 'Other' END`` for each breakdown column."""
    if lw.limit is None:
        return groups
    keep = exp.LTE(this=exp.column("_rank", table="_rank"), expression=exp.Literal.number(lw.limit))
    return [exp.Case(ifs=[exp.If(this=keep.copy(), true=g)], default=exp.Literal.string(OTHER)) for g in groups]


def rank_join(lw: Lowering, rows: str) -> exp.Join:
    """Rows to their group's rank, null groups included, as plain equalities an engine can hash
    (``IS NOT DISTINCT FROM`` makes PostgreSQL loop over every row x group). Groups are text:
    ``COALESCE(a, '') = COALESCE(b, '') AND (a IS NULL) = (b IS NULL)``."""
    parts: list[exp.Expr] = []
    for j in range(len(lw.groups.keys)):
        mine, ranked = exp.column(f"_g{j}", table=rows), exp.column(f"_g{j}", table="_rank")
        parts.append(
            exp.EQ(
                this=exp.Coalesce(this=mine, expressions=[exp.Literal.string("")]),
                expression=exp.Coalesce(this=ranked, expressions=[exp.Literal.string("")]),
            )
        )
        parts.append(
            exp.EQ(
                this=exp.paren(exp.Is(this=mine.copy(), expression=exp.Null()), copy=False),
                expression=exp.paren(exp.Is(this=ranked.copy(), expression=exp.Null()), copy=False),
            )
        )
    return exp.Join(this=table_ref("_rank"), on=and_all(parts), side="LEFT")
