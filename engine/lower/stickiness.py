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

from segwise.plan import ActiveDays

from .rows import group_key, table_ref
from .series import analysis_source, distinct_per_user

if TYPE_CHECKING:
    from segwise.plan import AnalysisNode

    from .state import Lowering


def stickiness_select(lw: Lowering, node: AnalysisNode) -> exp.Select:
    days = next(op for op in node.operators if isinstance(op, ActiveDays))
    source = analysis_source(lw, node, days.events)
    names = distinct_per_user(lw, source, source.day_time(), "_d", "sd")
    total = days.grain == "total"
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
