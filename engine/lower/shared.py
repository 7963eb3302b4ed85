"""Scan sharing (rule ``sharing``): several series from one scan with conditional aggregates,
back to long form through one reference to the shared CTE."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from segwise.measures import MeasureContext

from . import measure_sql
from .rows import RowSource, TimeBounds, and_all, group_key, table_ref

if TYPE_CHECKING:
    from segwise.plan_parts import SharedScan

    from .state import Lowering, SeriesPlan


def shared_select(lw: Lowering, plans: list[SeriesPlan], group: SharedScan) -> exp.Select:
    """Several series from one scan (the plan's ``SharedScan``, rule ``sharing``): a CTE
    ``sh<i>`` with one aggregate and one row count per series (conditional unless their filters
    are identical), then back to one row per series where its count is positive (exactly the
    (bucket, groups) rows a scan of its own gives). The scan reads the group's time range and
    events as the plan holds them."""
    first = plans[0]
    info = first.source.tables[0]
    identical = group.identical
    hull = TimeBounds(group.time.start, group.time.end)
    members = first.source.members if identical else [m for p in plans for m in p.source.members]
    where = list(first.source.where) if identical else []
    shared = RowSource(lw, members, where, None, first.source.location, [info])  # the plan's table
    shared.bounds = hull
    shared.time, shared.events, shared.partitions = group.time, group.events, group.partitions
    shared.prune = first.source.prune
    shared.partition_time = first.source.partition_time
    shared.planned = first.source.planned
    shared.after_join = {k: v for p in plans for k, v in (p.source.after_join or {}).items()}
    shared.user_joins, shared.users = dict(first.source.user_joins), first.source.users
    name = f"sh{first.index}"
    outputs: list[exp.Expr] = []
    keys: list[exp.Expr] = []
    if not lw.bucketing.total:
        bucket = shared.bucket()
        outputs.append(bucket.as_("_b"))
        keys.append(bucket)
    outputs += [g.copy().as_(f"_g{j}") for j, g in enumerate(first.groups)]
    keys += [g.copy() for g in first.groups]
    user = shared.user()
    # Row counts tell which (bucket, groups) rows a series has; a total without groups is one
    # row per series whatever it matched (as its own scan would be), so it needs none.
    counted = bool(keys)
    if identical and counted:
        outputs.append(lw.flavor.as_bigint(exp.Count(this=exp.Star())).as_("_n"))
    for plan in plans:
        i = plan.index
        if identical:
            outputs.append(measure_sql.aggregate(lw, plan.measure, user.copy(), plan.value).as_(f"_v{i}"))
            continue
        same_range = plan.source.bounds == hull  # the shared WHERE already applies this range
        condition = (
            and_all(
                plan.source._branch_filters(
                    info, "e", plan.source.bounds, partition_predicate=False, time=not same_range
                )
            )
            or exp.true()
        )

        def when(value: exp.Expr, condition: exp.Expr = condition) -> exp.Case:
            return exp.Case(ifs=[exp.If(this=condition.copy(), true=value)])

        rows = exp.Count(this=when(exp.Literal.number(1)))
        # The measure as a conditional aggregate: what it counts, its users and its value are
        # this series' rows only (the rule admits only measures whose definition is shareable).
        ctx = MeasureContext(
            user=when(user.copy()),
            value=when(plan.value.copy()) if plan.value is not None else None,
            flavor=lw.flavor,
            row=when(exp.Literal.number(1)),
        )
        value = plan.measure.aggregate(ctx)
        outputs.append(value.as_(f"_v{i}"))
        if counted:
            outputs.append(rows.as_(f"_n{i}"))
    body = shared.select(outputs)
    lw.ctes.append((name, body.group_by(*[group_key(k) for k in keys], copy=False) if keys else body))
    # Back to long form with one reference to the CTE (a CTE read twice may be computed twice):
    # cross join a small table of series numbers and pick each series' columns by number.
    keys_name = f"shk{first.index}"
    lw.ctes.append(
        (
            keys_name,
            lw.flavor.values_table([exp.Tuple(expressions=[exp.Literal.number(i)]) for i in range(len(plans))], ["_k"]),
        )
    )
    number = exp.column("_k", table=keys_name)

    def pick(values: list[exp.Expr]) -> exp.Expr:
        return exp.Case(
            ifs=[
                exp.If(this=exp.EQ(this=number.copy(), expression=exp.Literal.number(i)), true=value)
                for i, value in enumerate(values)
            ]
        )

    cols: list[exp.Expr] = [pick([exp.Literal.string(p.label) for p in plans]).as_("series")]
    if not lw.bucketing.total:
        cols.append(exp.column("_b", table=name).as_("bucket"))
    cols += [exp.column(f"_g{j}", table=name).as_(f"_g{j}") for j in range(len(first.groups))]
    cols.append(pick([exp.column(f"_v{p.index}", table=name) for p in plans]).as_("value"))
    select = (
        exp.select(*cols, copy=False)
        .from_(table_ref(name), copy=False)
        .join(table_ref(keys_name), join_type="cross", copy=False)
    )
    if not counted:
        return select
    if identical:
        count: exp.Expr = exp.column("_n", table=name)
    else:
        count = pick([exp.column(f"_n{p.index}", table=name) for p in plans])
    return select.where(exp.GT(this=count, expression=exp.Literal.number(0)), copy=False)
