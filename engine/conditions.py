"""Conditions on properties as sqlglot expressions: a user value becomes a literal of the
property's type (a wrong type is a located error), an operator a comparison.

Used by binding (to check every condition against the catalog before planning) and by
lowering (to build the filters); it needs only the target flavor.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from .errors import SpecError
from .query import ORDER_OPS, TEXT_OPS, Condition, Scalar
from .timeframe import ts_text

if TYPE_CHECKING:
    from segwise.adapters.base import SqlFlavor

    from .catalog import ResolvedProperty

NUMERIC = ("integer", "float")


def literal(value: Scalar) -> exp.Expr:
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)):
        return exp.Literal.number(repr(value) if isinstance(value, float) else str(value))
    return exp.Literal.string(str(value))


def build_condition(
    flavor: SqlFlavor, column: exp.Expr, prop: ResolvedProperty, cond: Condition, where: str
) -> exp.Expr:
    op = cond.op
    if op in ORDER_OPS and prop.kind == "string":
        column = flavor.text_sort_key(column)  # code-point order on every engine
    if prop.kind in ("timestamp", "timestamptz"):
        column = flavor.time_for_compare(column, prop.kind)
    if op == "is_null":
        return exp.Is(this=column, expression=exp.Null())
    if op == "is_not_null":
        return exp.Not(this=exp.Is(this=column, expression=exp.Null()))
    if op in TEXT_OPS and prop.kind != "string":
        raise SpecError(f"operator '{op}' works on text properties; {cond.property!r} is {prop.kind}", where=where)
    if op in ORDER_OPS and prop.kind == "boolean":
        raise SpecError(f"operator '{op}' does not apply to the boolean property {cond.property!r}", where=where)
    values = [operand(flavor, v, prop, where) for v in cond.operands]
    if op == "eq":
        return exp.EQ(this=column, expression=values[0])
    if op == "neq":
        return exp.NEQ(this=column, expression=values[0])
    if op == "gt":
        return exp.GT(this=column, expression=values[0])
    if op == "gte":
        return exp.GTE(this=column, expression=values[0])
    if op == "lt":
        return exp.LT(this=column, expression=values[0])
    if op == "lte":
        return exp.LTE(this=column, expression=values[0])
    if op == "in":
        return exp.In(this=column, expressions=values)
    if op == "not_in":
        return exp.Not(this=exp.In(this=column, expressions=values))
    if op == "between":
        return exp.Between(this=column, low=values[0], high=values[1])
    text = str(cond.value)
    position = exp.StrPosition(this=column, substr=exp.Literal.string(text))
    if op == "contains":
        return exp.GT(this=position, expression=exp.Literal.number(0))
    if op == "not_contains":
        return exp.EQ(this=position, expression=exp.Literal.number(0))
    if op == "starts_with":
        return flavor.starts_with(column, text)
    raise AssertionError(op)  # pragma: no cover - the model lists every operator


def operand(flavor: SqlFlavor, value: Scalar, prop: ResolvedProperty, where: str) -> exp.Expr:
    """A user value as a literal of the property's type; a wrong type is a located error."""
    kind = prop.kind
    if kind in NUMERIC:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            number = _as_number(value)
            if number is None:
                raise SpecError(f"property {prop.name!r} is numeric ({kind}); {value!r} is not a number", where=where)
            value = number
        return literal(value)
    if kind == "string":
        if isinstance(value, bool):
            return exp.Literal.string("true" if value else "false")
        if isinstance(value, (date, datetime)):
            return exp.Literal.string(value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat())
        return exp.Literal.string(str(value))
    if kind == "boolean":
        if isinstance(value, bool):
            return exp.Boolean(this=value)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return exp.Boolean(this=value.lower() == "true")
        raise SpecError(f"property {prop.name!r} is boolean; {value!r} is not true or false", where=where)
    if kind in ("timestamp", "timestamptz", "date"):
        moment = _as_moment(value)
        if moment is None:
            raise SpecError(
                f"property {prop.name!r} is a {kind}; {value!r} is not a date or time (use ISO 8601)", where=where
            )
        if kind == "date" and not isinstance(moment, datetime):
            return exp.cast(exp.Literal.string(moment.isoformat()), exp.DataType.Type.DATE)
        stamp = moment if isinstance(moment, datetime) else datetime(moment.year, moment.month, moment.day)
        return flavor.timestamp_literal(ts_text(stamp), kind == "timestamptz")
    return literal(value)


def _as_number(value: Any) -> int | float | None:
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                return float(value)
            except ValueError:
                return None
    return None


def _as_moment(value: Any) -> date | datetime | None:
    if isinstance(value, (date, datetime)):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value) if ("T" in value or " " in value) else date.fromisoformat(value)
        except ValueError:
            return None
    return None
