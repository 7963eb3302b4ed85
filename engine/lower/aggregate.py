"""One series' aggregate: ``SELECT label, bucket, groups, AGG ... GROUP BY`` over its rows, or
over its top-N mapped rows (or per-group partials) joined to the rank."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from . import measure_sql, topn
from .rows import group_key, table_ref

if TYPE_CHECKING:
    from .state import Lowering, SeriesPlan


def series_select(lw: Lowering, plan: SeriesPlan) -> exp.Select:
    measure = plan.measure
    label = exp.Literal.string(plan.label).as_("series")
    if lw.limit is None:
        bucket = plan.source.bucket() if not lw.bucketing.total else None
        outputs: list[exp.Expr] = [label]
        if bucket is not None:
            outputs.append(bucket.as_("bucket"))
        outputs += [g.as_(f"_g{j}") for j, g in enumerate(plan.groups)]
        outputs.append(measure_sql.aggregate(lw, measure, plan.source.user(), plan.value, plan.rollup).as_("value"))
        keys = ([bucket] if bucket is not None else []) + plan.groups
        select = plan.source.select(outputs)
        return select.group_by(*[group_key(k) for k in keys], copy=False) if keys else select
    partials, combine = topn.partials(lw, plan), measure_sql.group_combiner(lw, measure)
    rows = partials or topn.materialize(lw, plan)
    mapped = topn.mapped(lw, [exp.column(f"_g{j}", table=rows) for j in range(len(plan.groups))])
    outputs = [label]
    keys = []
    if not lw.bucketing.total:
        outputs.append(exp.column("_b", table=rows).as_("bucket"))
        keys.append(exp.column("_b", table=rows))
    outputs += [g.as_(f"_g{j}") for j, g in enumerate(mapped)]
    keys += [g.copy() for g in mapped]
    if partials is not None and combine is not None:
        agg = combine(exp.column("_p", table=rows))
    else:
        agg = measure_sql.aggregate(
            lw, measure, exp.column("_u", table=rows), exp.column("_v", table=rows), topn.rollup_of(lw, plan, rows)
        )
    outputs.append(agg.as_("value"))
    return (
        exp.select(*outputs, copy=False)
        .from_(table_ref(rows), copy=False)
        .join(topn.rank_join(lw, rows), copy=False)
        .group_by(*keys, copy=False)
    )
