"""Rolling active users without joining raw events to a date spine: per-user intervals of
activity, their +1/-1 edges summed up to each bucket's last day (a small bucket spine)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlglot import exp

from segwise.plan_parts import Spine, rolling_days
from segwise.timeframe import ts_text

from . import topn
from .rows import TimeBounds, table_ref

if TYPE_CHECKING:
    from .state import Lowering, SeriesPlan


def rolling_select(lw: Lowering, plan: SeriesPlan) -> exp.Select:
    """Rolling active users without joining raw events to a date spine.

    1. ``d``: distinct (user, local day, groups) over the range and its look-back, with the
       top-N mapping applied first (so a user in two "other" groups is one user of Other);
    2. ``iv``: each active day ``d`` opens the half-open interval ``[d, min(next active day,
       d + N))`` (the next day per user and groups by a window): a user's intervals never
       overlap and their union is the days the user counts as active;
    3. ``dd``: +1 at each interval start, -1 at each end, summed per (groups, day);
    4. each bucket sums the deltas up to its window's last day (a join with the small bucket
       table): users active that day. Rows that sum to 0 are dropped (never non-empty).
    """
    window = plan.measure.window_days or 1
    source = plan.source
    n_groups = len(plan.groups)
    read_look_back(lw, plan)
    day = source.day_time()
    group_names = [f"_g{j}" for j in range(n_groups)]
    days_name = f"d{plan.index}"
    named_groups = [g.as_(name) for g, name in zip(plan.groups, group_names, strict=True)]
    pairs = source.select([source.user().as_("_u"), day.as_("_d"), *named_groups], distinct=True)
    # A null user id is nobody: it must not open an interval.
    pairs = pairs.where(exp.Not(this=exp.Is(this=source.user(), expression=exp.Null())), copy=False)
    if lw.limit is not None:
        raw_name = f"draw{plan.index}"
        lw.ctes.append((raw_name, pairs))
        mapped = topn.mapped(lw, [exp.column(name, table=raw_name) for name in group_names])
        pairs = (
            exp.select(
                exp.column("_u", table=raw_name).as_("_u"),
                exp.column("_d", table=raw_name).as_("_d"),
                *[g.as_(name) for g, name in zip(mapped, group_names, strict=True)],
                copy=False,
            )
            .distinct(copy=False)
            .from_(table_ref(raw_name), copy=False)
            .join(topn.rank_join(lw, raw_name), copy=False)
        )
    lw.ctes.append((days_name, pairs))

    def col(name: str, table: str) -> exp.Column:
        return exp.column(name, table=table)

    # The user's next active day: LAG over descending days (LEAD would need a frame reaching
    # ahead, which ClickHouse's default frame does not; its LAG gives a default, not NULL, at
    # the edge, hence the `> _s` guard below).
    following = exp.Window(
        this=exp.Lag(this=col("_d", days_name)),
        partition_by=[col("_u", days_name), *[col(n, days_name) for n in group_names]],
        order=exp.Order(expressions=[exp.Ordered(this=col("_d", days_name), desc=True)]),
    )
    intervals_name = f"iv{plan.index}"
    lw.ctes.append(
        (
            intervals_name,
            exp.select(
                *[col(n, days_name).as_(n) for n in group_names],
                col("_d", days_name).as_("_s"),
                following.as_("_nx"),
                copy=False,
            ).from_(table_ref(days_name), copy=False),
        )
    )
    # The interval ends at the next active day or N days on, whichever is first (a CASE,
    # not LEAST: some dialects render LEAST with a null guard that repeats the window).
    window_end = lw.flavor.add_days(col("_s", intervals_name), window)
    sooner = exp.and_(
        exp.GT(this=col("_nx", intervals_name), expression=col("_s", intervals_name)),
        exp.LT(this=col("_nx", intervals_name), expression=window_end.copy()),
        copy=False,
    )
    ends = exp.Case(ifs=[exp.If(this=sooner, true=col("_nx", intervals_name))], default=window_end)
    deltas = []
    for edge, sign in ((col("_s", intervals_name), 1), (ends, -1)):
        deltas.append(
            exp.select(
                *[col(n, intervals_name).as_(n) for n in group_names],
                edge.as_("_day"),
                exp.Literal.number(sign).as_("_c"),
                copy=False,
            ).from_(table_ref(intervals_name), copy=False)
        )
    delta_name = f"dl{plan.index}"
    lw.ctes.append((delta_name, exp.union(deltas[0], deltas[1], distinct=False, copy=False)))
    daily_name = f"dd{plan.index}"
    daily_keys = [*[col(n, delta_name) for n in group_names], col("_day", delta_name)]
    lw.ctes.append(
        (
            daily_name,
            exp.select(
                *[col(n, delta_name).as_(n) for n in group_names],
                col("_day", delta_name).as_("_day"),
                exp.Sum(this=col("_c", delta_name)).as_("_c"),
                copy=False,
            )
            .from_(table_ref(delta_name), copy=False)
            .group_by(*daily_keys, copy=False),
        )
    )
    spine_name = f"spine{plan.index}"
    lw.ctes.append((spine_name, spine(lw, plan)))
    upto = exp.LTE(this=col("_day", daily_name), expression=col("_hi", spine_name))
    outputs: list[exp.Expr] = [exp.Literal.string(plan.label).as_("series")]
    keys: list[exp.Expr] = []
    if not lw.bucketing.total:
        outputs.append(col("_b", spine_name).as_("bucket"))
        keys.append(col("_b", spine_name))
    outputs += [col(n, daily_name).as_(n) for n in group_names]
    keys += [col(n, daily_name) for n in group_names]
    active = exp.Sum(this=col("_c", daily_name))
    outputs.append(lw.flavor.as_bigint(active).as_("value"))
    select = (
        exp.select(*outputs, copy=False)
        .from_(table_ref(spine_name), copy=False)
        .join(table_ref(daily_name), on=upto, join_type="inner", copy=False)
    )
    if keys:
        select = select.group_by(*keys, copy=False)
    return select.having(exp.GT(this=active.copy(), expression=exp.Literal.number(0)), copy=False)


def read_look_back(lw: Lowering, plan: SeriesPlan) -> tuple[datetime, datetime]:
    """Make the series' source read its window's look-back (the plan's scan range: N-1 local
    days before the range); returns the first and last local day read (``rolling_days``)."""
    time = lw.logical.nodes[plan.index].scan.time
    assert time is not None, "the planner gives every scan its time range"
    plan.source.bounds = TimeBounds(time.start, time.end)
    return rolling_days(plan.tf, plan.measure.window_days or 1)


def spine(lw: Lowering, plan: SeriesPlan) -> exp.Expr:
    """The plan's ``Spine`` of the series: one row per bucket, its start and the last day of the
    range in it (where its window ends)."""
    spine = next(op for op in lw.logical.nodes[plan.index].operators if isinstance(op, Spine))
    step = spine.step
    first_bucket, last_bucket = spine.rows[0][0], spine.rows[-1][0]
    series = lw.flavor.timestamp_series(ts_text(first_bucket), ts_text(last_bucket), *step) if step else None
    if series is not None and step is not None:  # generated by the warehouse: no literal per bucket
        first = exp.column("_b", table="g")
        if spine.grain == "day":
            hi: exp.Expr = first.copy()
        else:  # the bucket's last day, or the range's last day in the last bucket
            next_start = exp.Add(this=first.copy(), expression=lw.flavor.interval(*step))
            bucket_end = lw.flavor.add_days(next_start, -1)
            last = lw.flavor.timestamp_literal(ts_text(spine.last_day), False)
            hi = exp.Case(
                ifs=[exp.If(this=exp.LT(this=bucket_end, expression=last), true=bucket_end.copy())],
                default=last.copy(),
            )
        return series.select(hi.as_("_hi"), copy=False)
    rows = [
        exp.Tuple(
            expressions=[
                lw.flavor.timestamp_literal(ts_text(start), False),
                lw.flavor.timestamp_literal(ts_text(end_day), False),
            ]
        )
        for start, end_day in spine.rows
    ]
    return lw.flavor.values_table(rows, ["_b", "_hi"])
