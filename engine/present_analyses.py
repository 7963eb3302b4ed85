"""SQL you can paste for stickiness and lifecycle queries: the compiled statement wrapped so its
result is the answer ``segwise run`` gives, see ``segwise.present`` for segmentations and
``segwise.shape_stickiness`` / ``segwise.shape_lifecycle`` for the Arrow shaping.

Stickiness (``bucket``, breakdown columns, ``days``, ``value``):

* ``_p_raw``: the internal statement (users per bucket, groups and days active);
* ``_p_grid``: every (bucket, days) of the range, ``days`` 1..D (a constant table);
* ``_p_keys``: the breakdown groups found (without a breakdown: one);
* every key x grid cell LEFT JOINed to the rows with exactly (``cumulative``: at least) that
  many days, summed, 0 where none; ordered by breakdown values (nulls last), bucket, days.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from .group_order import sql_sort_keys
from .query import LIFECYCLE_STATUSES as STATUSES
from .shape_stickiness import bucket_days
from .timeframe import ts_text

if TYPE_CHECKING:
    from segwise.adapters.base import SqlFlavor

    from .compiled import CompiledQuery


def _col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def _ref(name: str, alias: str | None = None) -> exp.Table:
    return exp.table_(
        exp.to_identifier(name, quoted=True), alias=exp.to_identifier(alias, quoted=True) if alias else None
    )


def paste_stickiness(compiled: CompiledQuery, flavor: SqlFlavor) -> exp.Select:
    tf = compiled.timeframe
    groups = [f"_g{j}" for j in range(len(compiled.breakdown))]
    total = tf.grain == "total"
    starts = [tf.start] if total else list(tf.buckets)
    grid = [
        exp.Tuple(expressions=[flavor.timestamp_literal(ts_text(start), False), exp.Literal.number(d)])
        for start, span in zip(starts, bucket_days(tf), strict=True)
        for d in range(1, span + 1)
    ]
    internal = compiled.expression.copy()
    internal.set("settings", None)  # ClickHouse: settings go on the outer statement
    ctes: list[tuple[str, exp.Expr]] = [
        ("_p_raw", internal),
        ("_p_grid", flavor.values_table(grid, ["bucket", "days"])),
    ]
    if groups:
        keys: exp.Expr = exp.select(*[_col(g) for g in groups]).distinct().from_(_ref("_p_raw"))
    else:
        keys = flavor.values_table([exp.Tuple(expressions=[exp.Literal.number(1)])], ["_one"])
    ctes.append(("_p_keys", keys))
    days = exp.GTE if compiled.query.cumulative else exp.EQ
    on: list[exp.Expr] = [flavor.null_safe_eq(_col(g, "r"), _col(g, "k")) for g in groups]
    if not total:
        on.append(exp.EQ(this=_col("bucket", "r"), expression=_col("bucket", "g")))
    on.append(days(this=_col("days", "r"), expression=_col("days", "g")))
    value = exp.Coalesce(this=exp.Sum(this=_col("value", "r")), expressions=[exp.Literal.number(0)])
    keys_out = [_col(g, "k") for g in groups]
    outputs: list[exp.Expr] = [flavor.zoned_bucket(_col("bucket", "g"), tf.timezone).as_("bucket", quoted=True)]
    outputs += [k.as_(name, quoted=True) for k, name in zip(keys_out, compiled.breakdown, strict=True)]
    outputs += [
        flavor.as_bigint(_col("days", "g")).as_("days", quoted=True),
        flavor.as_bigint(value).as_("value", quoted=True),
    ]
    order = [*_group_order(groups, flavor, orders=compiled.group_orders), _col("bucket", "g"), _col("days", "g")]
    select = (
        exp.select(*outputs)
        .from_(_ref("_p_keys", "k"))
        .join(_ref("_p_grid", "g"), join_type="cross")
        .join(_ref("_p_raw", "r"), on=exp.and_(*on), join_type="left")
        .group_by(*[k.copy() for k in keys_out], _col("bucket", "g"), _col("days", "g"))
        .order_by(*order)
    )
    for name, body in ctes:
        select = select.with_(exp.to_identifier(name, quoted=True), as_=body)
    return select


def paste_lifecycle(compiled: CompiledQuery, flavor: SqlFlavor) -> exp.Select:
    """Lifecycle (``bucket``, breakdown columns, ``status``, ``value``): every bucket x status of
    each group found, LEFT JOINed to the rows, 0 where none; ordered by breakdown values (nulls
    last), status (new, returning, resurrecting, dormant), bucket."""
    tf = compiled.timeframe
    groups = [f"_g{j}" for j in range(len(compiled.breakdown))]
    grid = [
        exp.Tuple(
            expressions=[flavor.timestamp_literal(ts_text(start), False), exp.Literal.string(s), exp.Literal.number(i)]
        )
        for i, s in enumerate(STATUSES)
        for start in tf.buckets
    ]
    internal = compiled.expression.copy()
    internal.set("settings", None)
    ctes: list[tuple[str, exp.Expr]] = [
        ("_p_raw", internal),
        ("_p_grid", flavor.values_table(grid, ["bucket", "status", "status_order"])),
    ]
    if groups:
        keys: exp.Expr = exp.select(*[_col(g) for g in groups]).distinct().from_(_ref("_p_raw"))
    else:
        keys = flavor.values_table([exp.Tuple(expressions=[exp.Literal.number(1)])], ["_one"])
    ctes.append(("_p_keys", keys))
    on = [flavor.null_safe_eq(_col(g, "r"), _col(g, "k")) for g in groups]
    on += [
        exp.EQ(this=_col("bucket", "r"), expression=_col("bucket", "g")),
        exp.EQ(this=_col("status", "r"), expression=_col("status", "g")),
    ]
    value = exp.Coalesce(this=_col("value", "r"), expressions=[exp.Literal.number(0)])
    outputs: list[exp.Expr] = [flavor.zoned_bucket(_col("bucket", "g"), tf.timezone).as_("bucket", quoted=True)]
    outputs += [_col(g, "k").as_(name, quoted=True) for g, name in zip(groups, compiled.breakdown, strict=True)]
    outputs += [_col("status", "g").as_("status", quoted=True), flavor.as_bigint(value).as_("value", quoted=True)]
    select = (
        exp.select(*outputs)
        .from_(_ref("_p_keys", "k"))
        .join(_ref("_p_grid", "g"), join_type="cross")
        .join(_ref("_p_raw", "r"), on=exp.and_(*on), join_type="left")
        .order_by(
            *_group_order(groups, flavor, orders=compiled.group_orders), _col("status_order", "g"), _col("bucket", "g")
        )
    )
    for name, body in ctes:
        select = select.with_(exp.to_identifier(name, quoted=True), as_=body)
    return select


def _group_order(
    groups: list[str], flavor: SqlFlavor, table: str = "k", orders: tuple[tuple[str, ...] | None, ...] | None = None
) -> list[exp.Expr]:
    """Breakdown values (columns of ``table``) in the answer's order: nulls last, categories in
    declaration order (``orders``: one per group, None for a property), text by code point."""
    orders = orders if orders is not None else (None,) * len(groups)
    return [
        key for g, order in zip(groups, orders, strict=True) for key in sql_sort_keys(_col(g, table), order, flavor)
    ]
