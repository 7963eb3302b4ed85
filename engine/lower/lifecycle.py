"""Lifecycle: per bucket of the range, users who are new (their first matching event ever is in
the bucket), returning (active in it and the bucket before), resurrecting (active, not before,
not new) and dormant (active before, not in it).

1. ``la``: distinct (user, bucket[, groups]) of the matching events from the start of the bucket
   before the range to the range's end (whole buckets);
2. ``lf``: each user's first matching event ever (local time), read up to the range's end;
3. ``li``: the buckets numbered, the one before the range 0 (a constant table: no date arithmetic
   in the warehouse), with each bucket's end;
4. ``ls``: a status per (user, bucket): active ones by their first event and the bucket before
   (a join on the number minus one), dormant ones from the bucket before without this one;
5. users per (bucket, groups, status). Shaping zero-fills every bucket x status.
"""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING

from sqlglot import exp

from segwise.plan import Activity, Statuses
from segwise.timeframe import ts_text

from .rows import TimeBounds, group_key, table_ref
from .series import analysis_source, distinct_per_user

if TYPE_CHECKING:
    from segwise.plan import AnalysisNode

    from .state import Lowering


def _col(name: str, table: str) -> exp.Column:
    return exp.column(name, table=table)


def lifecycle_select(lw: Lowering, node: AnalysisNode) -> exp.Select:
    activity = next(op for op in node.operators if isinstance(op, Activity))
    edges = next(op for op in node.operators if isinstance(op, Statuses)).edges
    active = analysis_source(lw, node, activity.events)
    active.bounds = TimeBounds(activity.start, activity.end)
    names = distinct_per_user(lw, active, active.bucket(), "_b", "la")

    first = analysis_source(lw, node, activity.events)
    first.bounds = TimeBounds(None, activity.end)
    first_user = first.user()
    lf = first.select([first_user.as_("_u"), exp.Min(this=first.local_time()).as_("_f")])
    lf = lf.where(exp.Not(this=exp.Is(this=first_user.copy(), expression=exp.Null())), copy=False)
    lw.ctes.append(("lf", lf.group_by(group_key(first_user), copy=False)))

    literal = lw.flavor.timestamp_literal
    numbered = [
        exp.Tuple(expressions=[exp.Literal.number(k), literal(ts_text(lo), False), literal(ts_text(hi), False)])
        for k, (lo, hi) in enumerate(pairwise(edges))
    ]
    lw.ctes.append(("li", lw.flavor.values_table(numbered, ["_k", "_lo", "_hi"])))
    lk = (
        exp.select(_col("_u", "la").as_("_u"), _col("_k", "li").as_("_k"), *[_col(n, "la").as_(n) for n in names])
        .from_(table_ref("la"))
        .join(table_ref("li"), on=exp.EQ(this=_col("_b", "la"), expression=_col("_lo", "li")))
    )
    lw.ctes.append(("lk", lk))

    def same_user(left: str, right: str, step: int) -> exp.Expr:
        return exp.and_(
            exp.EQ(this=_col("_u", left), expression=_col("_u", right)),
            exp.EQ(
                this=_col("_k", left), expression=exp.Add(this=_col("_k", right), expression=exp.Literal.number(step))
            ),
        )

    is_new = exp.and_(
        exp.GTE(this=_col("_f", "lf"), expression=_col("_lo", "li")),
        exp.LT(this=_col("_f", "lf"), expression=_col("_hi", "li")),
    )
    status = exp.Case(
        ifs=[
            exp.If(this=is_new, true=exp.Literal.string("new")),
            exp.If(
                this=exp.Not(this=exp.Is(this=_col("_u", "p"), expression=exp.Null())),
                true=exp.Literal.string("returning"),
            ),
        ],
        default=exp.Literal.string("resurrecting"),
    )
    current = (
        exp.select(_col("_k", "c").as_("_k"), *[_col(n, "c").as_(n) for n in names], status.as_("_s"))
        .from_(exp.alias_(table_ref("lk"), "c", table=True))
        .join(table_ref("li"), on=exp.EQ(this=_col("_k", "li"), expression=_col("_k", "c")))
        .join(table_ref("lf"), on=exp.EQ(this=_col("_u", "lf"), expression=_col("_u", "c")))
        .join(exp.alias_(table_ref("lk"), "p", table=True), on=same_user("p", "c", -1), join_type="left")
        .where(exp.GTE(this=_col("_k", "c"), expression=exp.Literal.number(1)))
    )
    dormant = (
        exp.select(
            exp.Add(this=_col("_k", "p"), expression=exp.Literal.number(1)).as_("_k"),
            *[_col(n, "p").as_(n) for n in names],
            exp.Literal.string("dormant").as_("_s"),
        )
        .from_(exp.alias_(table_ref("lk"), "p", table=True))
        .join(exp.alias_(table_ref("lk"), "c", table=True), on=same_user("c", "p", 1), join_type="left")
        .where(
            exp.and_(
                exp.Is(this=_col("_u", "c"), expression=exp.Null()),
                exp.LT(this=_col("_k", "p"), expression=exp.Literal.number(len(edges) - 2)),
            )
        )
    )
    lw.ctes.append(("ls", exp.union(current, dormant, distinct=False)))
    keys = [_col("_lo", "li"), *[_col(n, "ls") for n in names], _col("_s", "ls")]
    return (
        exp.select(
            _col("_lo", "li").as_("bucket"),
            *[_col(n, "ls").as_(n) for n in names],
            _col("_s", "ls").as_("status"),
            lw.flavor.as_bigint(exp.Count(this=exp.Star())).as_("value"),
        )
        .from_(table_ref("ls"))
        .join(table_ref("li"), on=exp.EQ(this=_col("_k", "li"), expression=_col("_k", "ls")))
        .group_by(*keys)
    )
