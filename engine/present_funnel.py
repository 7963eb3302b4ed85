"""SQL you can paste for funnel queries: the compiled statement wrapped so its result is the
answer ``segwise run`` gives (``segwise.shape_funnel`` shapes it in Arrow).

* ``_p_raw``: the internal statement (units and seconds per bucket, groups and step reached);
* ``_p_grid``: every (entry bucket, step, step label) of the range (a constant table);
* ``_p_keys``: the breakdown groups found (without a breakdown: one);
* ``_p_cells``: every key x grid cell LEFT JOINed to the rows, count 0 where none;
* the rates from window functions over each (group, bucket): ``conversion`` against step 1,
  ``from_previous`` against the step before (step 1: itself); ordered by breakdown values (nulls
  last), bucket, step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from .present_analyses import _col, _group_order, _ref
from .shape_funnel import step_labels
from .timeframe import ts_text

if TYPE_CHECKING:
    from segwise.adapters.base import SqlFlavor

    from .compiled import CompiledQuery


def _rate(count: exp.Expr, of: exp.Expr, flavor: SqlFlavor) -> exp.Expr:
    positive = exp.GT(this=of, expression=exp.Literal.number(0))
    return exp.Case(ifs=[exp.If(this=positive, true=exp.Div(this=flavor.as_double(count), expression=of.copy()))])


def paste_funnel(compiled: CompiledQuery, flavor: SqlFlavor) -> exp.Select:
    spec = compiled.query.funnel
    assert spec is not None
    tf = compiled.timeframe
    groups = [f"_g{j}" for j in range(len(compiled.breakdown))]
    total = tf.grain == "total"
    starts = [tf.start] if total else list(tf.buckets)
    labels = step_labels(spec)
    grid = [
        exp.Tuple(
            expressions=[
                flavor.timestamp_literal(ts_text(start), False),
                exp.Literal.number(k + 1),
                exp.Literal.string(label),
            ]
        )
        for start in starts
        for k, label in enumerate(labels)
    ]
    internal = compiled.expression.copy()
    internal.set("settings", None)  # ClickHouse: settings go on the outer statement
    ctes: list[tuple[str, exp.Expr]] = [
        ("_p_raw", internal),
        ("_p_grid", flavor.values_table(grid, ["bucket", "step", "step_label"])),
    ]
    if groups:
        keys: exp.Expr = exp.select(*[_col(g) for g in groups]).distinct().from_(_ref("_p_raw"))
    else:
        keys = flavor.values_table([exp.Tuple(expressions=[exp.Literal.number(1)])], ["_one"])
    ctes.append(("_p_keys", keys))
    on: list[exp.Expr] = [flavor.null_safe_eq(_col(g, "r"), _col(g, "k")) for g in groups]
    if not total:
        on.append(exp.EQ(this=_col("bucket", "r"), expression=_col("bucket", "g")))
    on.append(exp.EQ(this=_col("step", "r"), expression=_col("step", "g")))
    count = exp.Coalesce(this=_col("count", "r"), expressions=[exp.Literal.number(0)])
    cells = (
        exp.select(
            _col("bucket", "g").as_("bucket", quoted=True),
            *[_col(g, "k").as_(g, quoted=True) for g in groups],
            _col("step", "g").as_("step", quoted=True),
            _col("step_label", "g").as_("step_label", quoted=True),
            flavor.as_bigint(count).as_("count", quoted=True),
            _col("median_seconds", "r").as_("median_seconds", quoted=True),
            _col("avg_seconds", "r").as_("avg_seconds", quoted=True),
        )
        .from_(_ref("_p_keys", "k"))
        .join(_ref("_p_grid", "g"), join_type="cross")
        .join(_ref("_p_raw", "r"), on=exp.and_(*on), join_type="left")
    )
    ctes.append(("_p_cells", cells))
    c = "c"
    partition = [_col(g, c) for g in groups] + [_col("bucket", c)]
    by_step = exp.Order(expressions=[exp.Ordered(this=_col("step", c))])
    first = exp.Window(
        this=exp.Max(
            this=exp.Case(
                ifs=[exp.If(this=exp.EQ(this=_col("step", c), expression=exp.Literal.number(1)), true=_col("count", c))]
            )
        ),
        partition_by=[p.copy() for p in partition],
    )
    before = exp.Window(
        this=exp.Lag(this=_col("count", c), offset=exp.Literal.number(1), default=_col("count", c)),
        partition_by=[p.copy() for p in partition],
        order=by_step,
    )
    outputs: list[exp.Expr] = [flavor.zoned_bucket(_col("bucket", c), tf.timezone).as_("bucket", quoted=True)]
    outputs += [_col(g, c).as_(name, quoted=True) for g, name in zip(groups, compiled.breakdown, strict=True)]
    outputs += [
        flavor.as_bigint(_col("step", c)).as_("step", quoted=True),
        _col("step_label", c).as_("step_label", quoted=True),
        _col("count", c).as_("count", quoted=True),
        _rate(_col("count", c), first, flavor).as_("conversion", quoted=True),
        _rate(_col("count", c), before, flavor).as_("from_previous", quoted=True),
        flavor.as_double(_col("median_seconds", c)).as_("median_seconds", quoted=True),
        flavor.as_double(_col("avg_seconds", c)).as_("avg_seconds", quoted=True),
    ]
    order = [*_group_order(groups, flavor, c), _col("bucket", c), _col("step", c)]
    select = exp.select(*outputs).from_(_ref("_p_cells", c)).order_by(*order)
    for name, body in ctes:
        select = select.with_(exp.to_identifier(name, quoted=True), as_=body)
    return select
