"""Stickiness: on how many distinct local days of each bucket units do the event.

1. ``sd``: distinct (user, local day[, groups]) of the matching events in the range (the day
   partition column stands in for the event time where the rule ``partitions`` says so);
2. ``su``: days per (bucket, groups, user);
3. users per (bucket, groups, days). Shaping fills every days 1..D of a bucket with 0 and sums
   "at least d days" for ``cumulative`` (``segwise.shape_stickiness``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from segwise.plan import planned_conditions

from .rows import RowSource, group_key, table_ref
from .series import segmented_groups

if TYPE_CHECKING:
    from segwise.plan import AnalysisNode

    from .state import Lowering


def stickiness_select(lw: Lowering, node: AnalysisNode) -> exp.Select:
    spec = lw.query.stickiness
    assert spec is not None
    source = RowSource(lw, spec.members, list(spec.where), lw.tf, "stickiness")
    source.prune = node.prune
    source.partition_time = node.partition_time
    source.planned = planned_conditions(node.scan)
    groups = segmented_groups(lw, source)
    names = [f"_g{j}" for j in range(len(groups))]
    user = source.user()
    days = source.select(
        [user.as_("_u"), source.day_time().as_("_d"), *[g.as_(n) for g, n in zip(groups, names, strict=True)]],
        distinct=True,
    )
    days = days.where(exp.Not(this=exp.Is(this=user.copy(), expression=exp.Null())), copy=False)
    lw.ctes.append(("sd", days))
    total = lw.tf.grain == "total"
    bucket = None if total else lw.bucket(exp.column("_d", table="sd"))
    keys: list[exp.Expr] = ([bucket] if bucket is not None else []) + [exp.column(n, table="sd") for n in names]
    per_user = exp.select(
        *([bucket.as_("_b")] if bucket is not None else []),
        *[exp.column(n, table="sd").as_(n) for n in names],
        exp.column("_u", table="sd").as_("_u"),
        exp.Count(this=exp.Star()).as_("_n"),
        copy=False,
    ).from_(table_ref("sd"), copy=False)
    per_user = per_user.group_by(*[group_key(k) for k in keys], exp.column("_u", table="sd"), copy=False)
    lw.ctes.append(("su", per_user))
    outputs: list[exp.Expr] = [] if total else [exp.column("_b", table="su").as_("bucket")]
    outputs += [exp.column(n, table="su").as_(n) for n in names]
    outputs += [
        lw.flavor.as_bigint(exp.column("_n", table="su")).as_("days"),
        lw.flavor.as_bigint(exp.Count(this=exp.Star())).as_("value"),
    ]
    by = ([] if total else [exp.column("_b", table="su")]) + [exp.column(n, table="su") for n in names]
    return (
        exp.select(*outputs, copy=False)
        .from_(table_ref("su"), copy=False)
        .group_by(*by, exp.column("_n", table="su"), copy=False)
    )
