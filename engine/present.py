"""SQL you can paste: the compiled statement wrapped so that its result *is* the answer ``segwise
run`` gives — the same columns, names, order, zero-filled buckets and formula rows.

``segwise run`` executes the internal statement (columns ``series, bucket, _g0.., value``, only
the non-empty cells) and shapes it in Arrow (``segwise.execute``); this module builds the same
shaping as SQL around it, for ``segwise sql`` and ``/api/sql``, with sqlglot expressions only:

* ``_p_raw``: the internal statement; ``_p_found``: its rows with the previous period's buckets
  moved onto the current ones (a constant mapping table) and the value cast to its exact type;
* ``_p_buckets``: every bucket of the range (a constant table); ``_p_keys``: the (series, breakdown
  values) seen (without a breakdown: every series); the cross product LEFT JOINed to the rows,
  empty cells 0 for count measures and NULL otherwise;
* one part per formula: its series' values aligned per breakdown values and bucket, ``x / 0`` NULL
  (``NULLIF``), IEEE double arithmetic as the Arrow evaluation;
* the breakdown columns renamed, the bucket a timestamp in the project's zone where the flavor can
  say so (``SqlFlavor.zoned_bucket``), ordered by series, breakdown values (nulls last), bucket.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlglot import exp

from .formulas import BinOp, Neg, Node, Num, Ref, parse_formula, references
from .group_order import sql_sort_keys
from .present_analyses import paste_lifecycle, paste_stickiness
from .present_funnel import paste_funnel
from .present_retention import paste_retention
from .timeframe import ts_text

if TYPE_CHECKING:
    from datetime import datetime

    from segwise.adapters.base import SqlFlavor

    from .compiled import CompiledQuery


def _col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def _lit(text: str) -> exp.Literal:
    return exp.Literal.string(text)


def _ref(name: str, alias: str | None = None) -> exp.Table:
    return exp.Table(
        this=exp.to_identifier(name, quoted=True),
        alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True)) if alias else None,
    )


class _Builder:
    def __init__(self, compiled: CompiledQuery, flavor: SqlFlavor) -> None:
        self.c = compiled
        self.flavor = flavor
        self.tf = compiled.timeframe
        self.groups = [f"_g{j}" for j in range(len(compiled.breakdown))]
        self.ctes: list[tuple[str, exp.Expr]] = []

    def moment(self, value: datetime) -> exp.Expr:
        return self.flavor.timestamp_literal(ts_text(value), False)

    def value(self, expr: exp.Expr) -> exp.Expr:
        return self.flavor.as_bigint(expr) if self.c.value_is_integer else self.flavor.as_double(expr)

    def cte(self, name: str, select: exp.Expr) -> None:
        self.ctes.append((name, select))

    def same_groups(self, left: str, right: str) -> list[exp.Expr]:
        return [self.flavor.null_safe_eq(_col(g, left), _col(g, right)) for g in self.groups]

    # -- the found rows ---------------------------------------------------------------------------------

    def found(self) -> None:
        internal = self.c.expression.copy()
        internal.set("settings", None)  # ClickHouse: settings go on the outer statement
        self.cte("_p_raw", internal)
        previous = [o for o in self.c.outputs if o.previous] if self.tf.grain != "total" else []
        bucket: exp.Expr = _col("bucket", "r")
        outputs: list[exp.Expr] = [_col("series", "r").as_("series", quoted=True)]
        outputs += [_col(g, "r").as_(g, quoted=True) for g in self.groups]
        if self.tf.grain == "total":
            bucket = self.moment(self.tf.start)
        elif previous:
            bucket = exp.Coalesce(this=_col("target", "m"), expressions=[bucket])
        outputs.append(bucket.as_("bucket", quoted=True))
        if self.c.frequency:
            outputs.append(self.flavor.as_bigint(_col("_f", "r")).as_("_f", quoted=True))
        outputs.append(self.value(_col("value", "r")).as_("value", quoted=True))
        select = exp.select(*outputs).from_(_ref("_p_raw", "r"))
        if previous:
            rows = []
            for output in previous:
                count = min(len(output.timeframe.buckets), len(self.tf.buckets))
                for source, target in zip(output.timeframe.buckets[:count], self.tf.buckets[:count], strict=True):
                    rows.append(exp.Tuple(expressions=[_lit(output.label), self.moment(source), self.moment(target)]))
            self.cte("_p_move", self.flavor.values_table(rows, ["series", "source", "target"]))
            on = exp.and_(
                exp.EQ(this=_col("series", "m"), expression=_col("series", "r")),
                exp.EQ(this=_col("source", "m"), expression=_col("bucket", "r")),
            )
            select = select.join(_ref("_p_move", "m"), on=on, join_type="left")
            labels = [_lit(o.label) for o in previous]
            dropped = exp.and_(
                exp.In(this=_col("series", "r"), expressions=labels),
                exp.Is(this=_col("target", "m"), expression=exp.Null()),
            )
            select = select.where(exp.Not(this=exp.paren(dropped)))
        self.cte("_p_found", select)

    # -- fill and formulas ------------------------------------------------------------------------------

    def buckets(self) -> None:
        rows = [exp.Tuple(expressions=[self.moment(b)]) for b in self.tf.buckets]
        self.cte("_p_buckets", self.flavor.values_table(rows, ["bucket"]))

    def filled(self) -> exp.Select:
        labels = [o.label for o in self.c.outputs]
        if self.groups:
            keys = (
                exp.select(*[_col(n) for n in ("series", *self.groups)])
                .distinct()
                .from_(_ref("_p_found"))
                .where(exp.In(this=_col("series"), expressions=[_lit(x) for x in labels]))
            )
        else:
            keys = self.flavor.values_table([exp.Tuple(expressions=[_lit(x)]) for x in labels], ["series"])
        self.cte("_p_keys", keys)
        counts = [_lit(o.label) for o in self.c.outputs if o.measure.is_count]
        value: exp.Expr = _col("value", "f")
        if counts:
            missing = exp.and_(
                exp.Is(this=_col("series", "f"), expression=exp.Null()),
                exp.In(this=_col("series", "k"), expressions=counts),
            )
            value = exp.Case(ifs=[exp.If(this=missing, true=self.value(exp.Literal.number(0)))], default=value)
        on = exp.and_(
            exp.EQ(this=_col("series", "f"), expression=_col("series", "k")),
            *self.same_groups("f", "k"),
            exp.EQ(this=_col("bucket", "f"), expression=_col("bucket", "b")),
        )
        outputs = [_col("series", "k").as_("series", quoted=True)]
        outputs += [_col(g, "k").as_(g, quoted=True) for g in self.groups]
        outputs += [_col("bucket", "b").as_("bucket", quoted=True), value.as_("value", quoted=True)]
        return (
            exp.select(*outputs)
            .from_(_ref("_p_keys", "k"))
            .join(_ref("_p_buckets", "b"), join_type="cross")
            .join(_ref("_p_found", "f"), on=on, join_type="left")
        )

    def formula(self, index: int, label: str, text: str) -> exp.Select:
        tree = parse_formula(text)
        names = references(tree)
        keys_name = f"_p_fkeys{index}"
        if self.groups:
            keys = (
                exp.select(*[_col(g) for g in self.groups])
                .distinct()
                .from_(_ref("_p_found"))
                .where(exp.In(this=_col("series"), expressions=[_lit(n) for n in names]))
            )
        else:
            keys = self.flavor.values_table([exp.Tuple(expressions=[exp.Literal.number(1)])], ["_one"])
        self.cte(keys_name, keys)
        select = exp.select(_lit(label).as_("series", quoted=True))
        select = select.select(*[_col(g, "k").as_(g, quoted=True) for g in self.groups])
        select = select.select(_col("bucket", "b").as_("bucket", quoted=True))
        select = select.from_(_ref(keys_name, "k")).join(_ref("_p_buckets", "b"), join_type="cross")
        operands: dict[str, exp.Expr] = {}
        fills = {o.label: o.measure.is_count for o in self.c.outputs}
        for i, name in enumerate(names):
            alias = f"o{i}"
            on = exp.and_(
                exp.EQ(this=_col("series", alias), expression=_lit(name)),
                *self.same_groups(alias, "k"),
                exp.EQ(this=_col("bucket", alias), expression=_col("bucket", "b")),
            )
            select = select.join(_ref("_p_found", alias), on=on, join_type="left")
            operand = self.flavor.as_double(_col("value", alias))
            if fills.get(name):
                operand = exp.Coalesce(this=operand, expressions=[self.flavor.as_double(exp.Literal.number(0))])
            operands[name] = operand
        return select.select(self.flavor.as_double(_sql(tree, operands, self.flavor)).as_("value", quoted=True))

    # -- the statement ----------------------------------------------------------------------------------

    def build(self) -> exp.Select:
        self.found()
        if self.c.frequency:
            parts: list[exp.Select] = [exp.select(exp.Star()).from_(_ref("_p_found"))]
        else:
            self.buckets()
            parts = [self.filled()]
            for index, formula in enumerate(self.c.query.formulas):
                parts.append(self.formula(index, formula.label, formula.expression))
        union: exp.Expr = parts[0]
        for part in parts[1:]:
            union = exp.union(union, part, distinct=False)
        self.cte("_p_all", union)
        outputs: list[exp.Expr] = [
            self.flavor.zoned_bucket(_col("bucket", "a"), self.tf.timezone).as_("bucket", quoted=True)
        ]
        outputs += [_col(g, "a").as_(name, quoted=True) for g, name in zip(self.groups, self.c.breakdown, strict=True)]
        if self.c.frequency:
            outputs.append(_col("_f", "a").as_("frequency", quoted=True))
        outputs += [_col("series", "a").as_("series", quoted=True), _col("value", "a").as_("value", quoted=True)]
        order: list[exp.Expr] = [self.flavor.text_sort_key(_col("series", "a"))]
        for g, group_order in zip(self.groups, self.c.group_orders, strict=True):
            order += sql_sort_keys(_col(g, "a"), group_order, self.flavor)
        order.append(_col("bucket", "a"))
        if self.c.frequency:
            order.append(exp.Coalesce(this=_col("_f", "a"), expressions=[exp.Literal.number(0)]))
        select = exp.select(*outputs).from_(_ref("_p_all", "a")).order_by(*order)
        for name, body in self.ctes:
            select = select.with_(exp.to_identifier(name, quoted=True), as_=body)
        return select


def _sql(node: Node, operands: dict[str, exp.Expr], flavor: SqlFlavor) -> exp.Expr:
    """A formula as SQL over its operands (doubles): ``x / 0`` is NULL, as in ``formulas.evaluate``."""
    if isinstance(node, Num):
        return flavor.as_double(exp.Literal.number(repr(float(node.value))))
    if isinstance(node, Ref):
        return operands[node.label].copy()
    if isinstance(node, Neg):
        return exp.Neg(this=exp.paren(_sql(node.operand, operands, flavor)))
    assert isinstance(node, BinOp)
    left = exp.paren(_sql(node.left, operands, flavor))
    right = exp.paren(_sql(node.right, operands, flavor))
    if node.op == "+":
        return exp.Add(this=left, expression=right)
    if node.op == "-":
        return exp.Sub(this=left, expression=right)
    if node.op == "*":
        return exp.Mul(this=left, expression=right)
    zero = flavor.as_double(exp.Literal.number(0))
    return exp.Div(this=left, expression=exp.Nullif(this=right, expression=zero))


def paste_statement(compiled: CompiledQuery, flavor: SqlFlavor) -> exp.Select:
    """The statement whose result is ``segwise run``'s answer for ``compiled`` (see the module doc)."""
    paste = PASTE_ANALYSES.get(compiled.query.analysis)
    return paste(compiled, flavor) if paste is not None else _Builder(compiled, flavor).build()


# The statement to paste for each analysis other than a segmentation (``Query.analysis``).
PASTE_ANALYSES: dict[str, Callable[[CompiledQuery, SqlFlavor], exp.Select]] = {
    "stickiness": paste_stickiness,
    "lifecycle": paste_lifecycle,
    "funnel": paste_funnel,
    "retention": paste_retention,
}
