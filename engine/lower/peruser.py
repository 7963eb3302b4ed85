"""Per-user measures and ``frequency``: aggregate per (bucket, groups, user) first, then across
users."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from segwise.measures import Measure, MeasureContext

from . import topn
from .rows import group_key, table_ref

if TYPE_CHECKING:
    from .state import Lowering, SeriesPlan


def two_level_select(lw: Lowering, plan: SeriesPlan) -> exp.Select:
    """Per-user measures and frequency: aggregate per user, then across users."""
    measure = plan.measure
    inner_name = f"pu{plan.index}"
    if lw.limit is None:
        source_groups = plan.groups
        user = plan.source.user()
        bucket = plan.source.bucket() if not lw.bucketing.total else None
        value = plan.value
        rollup = plan.rollup
    else:
        rows = topn.materialize(lw, plan)
        rollup = topn.rollup_of(lw, plan, rows)
        source_groups = topn.mapped(lw, [exp.column(f"_g{j}", table=rows) for j in range(len(plan.groups))])
        user = exp.column("_u", table=rows)
        bucket = exp.column("_b", table=rows) if not lw.bucketing.total else None
        value = exp.column("_v", table=rows)
    definition = measure.definition
    assert definition.per_user is not None and definition.per_user_rollup is not None
    ctx = MeasureContext(user=user, value=value, flavor=lw.flavor)
    per_user = definition.per_user_rollup(ctx, rollup) if rollup is not None else definition.per_user(ctx)
    inner_outputs: list[exp.Expr] = []
    inner_keys: list[exp.Expr] = []
    if bucket is not None:
        inner_outputs.append(bucket.as_("_b"))
        inner_keys.append(bucket)
    inner_outputs += [g.as_(f"_g{j}") for j, g in enumerate(source_groups)]
    inner_keys += list(source_groups)
    inner_outputs += [user.as_("_u"), per_user.as_("_pu")]
    inner_keys.append(user)
    if lw.limit is None:
        inner = plan.source.select(inner_outputs)
    else:
        inner = (
            exp.select(*inner_outputs, copy=False)
            .from_(table_ref(plan.materialized or ""), copy=False)
            .join(topn.rank_join(lw, plan.materialized or ""), copy=False)
        )
    not_null_user = exp.Not(this=exp.Is(this=user.copy(), expression=exp.Null()))
    inner = inner.where(not_null_user, copy=False).group_by(*[group_key(k) for k in inner_keys], copy=False)
    lw.ctes.append((inner_name, inner))
    outputs: list[exp.Expr] = [exp.Literal.string(plan.label).as_("series")]
    keys: list[exp.Expr] = []
    if bucket is not None:
        outputs.append(exp.column("_b", table=inner_name).as_("bucket"))
        keys.append(exp.column("_b", table=inner_name))
    for j in range(len(plan.groups)):
        outputs.append(exp.column(f"_g{j}", table=inner_name).as_(f"_g{j}"))
        keys.append(exp.column(f"_g{j}", table=inner_name))
    pu = exp.column("_pu", table=inner_name)
    if definition.family == "frequency":
        outputs.append(lw.flavor.as_bigint(pu.copy()).as_("_f"))
        keys.append(pu.copy())
        outputs.append(lw.flavor.as_bigint(exp.Count(this=exp.Star())).as_("value"))
    else:  # the per-user values aggregated across users (avg, min, max or a percentile)
        assert measure.across is not None
        per = MeasureContext(user=pu, value=lw.flavor.as_double(pu), flavor=lw.flavor, quantile=measure.quantile)
        outputs.append(Measure(measure.across, quantile=measure.quantile).aggregate(per).as_("value"))
    return exp.select(*outputs, copy=False).from_(table_ref(inner_name), copy=False).group_by(*keys, copy=False)
