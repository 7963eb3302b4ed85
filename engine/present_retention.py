"""SQL you can paste for a retention query: the compiled statement wrapped so its result is the
answer ``segwise run`` gives (``segwise.shape_retention`` shapes the same rows in Arrow).

* ``_p_raw``: the internal statement (units per cohort number, groups, period);
* ``_p_mapped``: with ``breakdown_limit``, groups ranked by summed cohort size (ties by value,
  nulls last), the rest mapped to ``Other``;
* ``_p_grid``: every (cohort, period) reported (a constant table: periods that started before now);
* ``_p_keys``: the groups found (without a breakdown: one);
* ``_p_cells``: key x grid LEFT JOINed to the rows: count (on or after: the periods from k on) and
  the cohort's size, 0 where none;
* the cells, then the summary rows (cohort null) summed per group and period; rate = count / size
  (null when 0); ordered by cohort (summary last), breakdown values (nulls last), period.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from .plan_retention import return_periods
from .present_analyses import _col, _group_order, _ref
from .timeframe import ts_text

if TYPE_CHECKING:
    from segwise.adapters.base import SqlFlavor

    from .compiled import CompiledQuery


def _num(value: int) -> exp.Expr:
    return exp.Literal.number(value)


def _when(condition: exp.Expr, value: exp.Expr) -> exp.Expr:
    return exp.Case(ifs=[exp.If(this=condition, true=value)], default=_num(0))


def _mapped(groups: list[str], limit: int, flavor: SqlFlavor) -> tuple[exp.Expr, exp.Expr]:
    """The groups' ranking by summed cohort size, and the rows with groups beyond ``limit`` as Other."""
    size = exp.Sum(this=_when(exp.EQ(this=_col("_p"), expression=_num(0)), _col("_n")))
    sized = exp.select(*[_col(g) for g in groups], size.as_("_size", quoted=True)).from_(_ref("_p_raw"))
    sized = sized.group_by(*[_col(g) for g in groups])
    order = [exp.Ordered(this=_col("_size", "s"), desc=True), *_group_order(groups, (None,) * len(groups), flavor, "s")]
    rank = exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=order))
    ranked = exp.select(*[_col(g) for g in groups], rank.as_("_rank", quoted=True)).from_(
        exp.Subquery(this=sized, alias=exp.TableAlias(this=exp.to_identifier("s", quoted=True)))
    )
    kept = exp.LTE(this=_col("_rank", "k"), expression=_num(limit))
    outputs = [
        exp.Case(ifs=[exp.If(this=kept.copy(), true=_col(g, "r"))], default=exp.Literal.string("Other")).as_(
            g, quoted=True
        )
        for g in groups
    ]
    outputs += [_col(n, "r").as_(n, quoted=True) for n in ("_c", "_p", "_n")]
    on = exp.and_(*[flavor.null_safe_eq(_col(g, "r"), _col(g, "k")) for g in groups])
    mapped = exp.select(*outputs).from_(_ref("_p_raw", "r")).join(_ref("_p_ranked", "k"), on=on)
    return ranked, mapped


def paste_retention(compiled: CompiledQuery, flavor: SqlFlavor) -> exp.Select:
    spec = return_periods(compiled.plan)  # the plan's frame, periods and cumulative (planner._retention)
    tf = compiled.timeframe
    frame = spec.frame
    groups = [f"_g{j}" for j in range(len(compiled.breakdown))]
    internal = compiled.expression.copy()
    internal.set("settings", None)  # ClickHouse: settings go on the outer statement
    ctes: list[tuple[str, exp.Expr]] = [("_p_raw", internal)]
    rows = "_p_raw"
    limit = compiled.query.breakdown_limit
    if groups and limit is not None:
        ranked, mapped = _mapped(groups, limit, flavor)
        ctes += [("_p_ranked", ranked), ("_p_mapped", mapped)]
        rows = "_p_mapped"
    cells = [
        exp.Tuple(expressions=[_num(c), flavor.timestamp_literal(ts_text(frame.buckets[c]), False), _num(k)])
        for c in range(frame.cohorts)
        for k in range(frame.reported(c))
    ] or [exp.Tuple(expressions=[_num(-1), flavor.timestamp_literal(ts_text(tf.start), False), _num(-1)])]
    ctes.append(("_p_grid", flavor.values_table(cells, ["_c", "_cohort", "_p"])))
    if groups:
        keys: exp.Expr = exp.select(*[_col(g) for g in groups]).distinct().from_(_ref(rows))
    else:
        keys = flavor.values_table([exp.Tuple(expressions=[_num(1)])], ["_one"])
    ctes.append(("_p_keys", keys))

    period, found = _col("_p", "g"), _col("_p", "r")
    if spec.cumulative:  # period k: the units whose last return is k or later (period 0: the cohort)
        hit = exp.or_(
            exp.and_(exp.EQ(this=period, expression=_num(0)), exp.EQ(this=found, expression=_num(0))),
            exp.and_(
                exp.GTE(this=period.copy(), expression=_num(1)), exp.GTE(this=found.copy(), expression=period.copy())
            ),
        )
    else:
        hit = exp.EQ(this=found.copy(), expression=period.copy())
    count = exp.Coalesce(this=exp.Sum(this=_when(hit, _col("_n", "r"))), expressions=[_num(0)])
    size = exp.Coalesce(
        this=exp.Sum(this=_when(exp.EQ(this=found.copy(), expression=_num(0)), _col("_n", "r"))),
        expressions=[_num(0)],
    )
    on = [flavor.null_safe_eq(_col(g, "r"), _col(g, "k")) for g in groups]
    on.append(exp.EQ(this=_col("_c", "r"), expression=_col("_c", "g")))
    by = [*[_col(g, "k") for g in groups], _col("_c", "g"), _col("_cohort", "g"), period.copy()]
    cell_select = (
        exp.select(
            *[_col(g, "k").as_(g, quoted=True) for g in groups],
            _col("_c", "g").as_("_c", quoted=True),
            _col("_cohort", "g").as_("_cohort", quoted=True),
            period.copy().as_("_p", quoted=True),
            flavor.as_bigint(count).as_("_count", quoted=True),
            flavor.as_bigint(size).as_("_size", quoted=True),
        )
        .from_(_ref("_p_keys", "k"))
        .join(_ref("_p_grid", "g"), join_type="cross")
        .join(_ref(rows, "r"), on=exp.and_(*on), join_type="left")
        .group_by(*by)
    )
    ctes.append(("_p_cells", cell_select))

    def part(summary: bool) -> exp.Select:
        counted: exp.Expr = _col("_count", "x")
        sized: exp.Expr = _col("_size", "x")
        if summary:
            counted, sized = exp.Sum(this=counted), exp.Sum(this=sized)
        cohort = exp.cast(exp.Null(), exp.DataType.Type.TIMESTAMP) if summary else _col("_cohort", "x")
        rate = exp.Case(
            ifs=[exp.If(this=exp.EQ(this=sized.copy(), expression=_num(0)), true=exp.Null())],
            default=exp.Div(this=flavor.as_double(counted.copy()), expression=flavor.as_double(sized.copy())),
        )
        select = exp.select(
            flavor.zoned_bucket(cohort, tf.timezone).as_("cohort", quoted=True),
            *[_col(g, "x").as_(name, quoted=True) for g, name in zip(groups, compiled.breakdown, strict=True)],
            flavor.as_bigint(_col("_p", "x")).as_("period", quoted=True),
            flavor.as_bigint(counted).as_("count", quoted=True),
            flavor.as_bigint(sized).as_("cohort_size", quoted=True),
            flavor.as_double(rate).as_("rate", quoted=True),
            (_num(frame.cohorts) if summary else _col("_c", "x")).as_("_order", quoted=True),
        ).from_(_ref("_p_cells", "x"))
        if summary:
            select = select.group_by(*[_col(g, "x") for g in groups], _col("_p", "x"))
        return select

    union = exp.union(part(False), part(True), distinct=False)
    outer = exp.Subquery(this=union, alias=exp.TableAlias(this=exp.to_identifier("a", quoted=True)))
    names = ["cohort", *compiled.breakdown, "period", "count", "cohort_size", "rate"]
    order = [
        _col("_order", "a"),
        *_group_order([*compiled.breakdown], compiled.group_orders, flavor, "a"),
        _col("period", "a"),
    ]
    select = exp.select(*[_col(n, "a").as_(n, quoted=True) for n in names]).from_(outer).order_by(*order)
    for name, body in ctes:
        select = select.with_(exp.to_identifier(name, quoted=True), as_=body)
    return select
