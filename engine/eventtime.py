"""The event time of one table's rows: the column itself, or its text or epoch numbers parsed
(``event_time_format``), and the time filter on it.

The filter keeps the *raw* column bare wherever its encoding sorts like time, comparing it with
constants in the same encoding (``ts_text >= '2025-01-01 00:00:00'``, ``ts_ms >= 1735689600000``)
so the warehouse can prune and use indexes; where that raw predicate is only a superset (ISO text,
a bound between a pattern's values) the parsed time is compared too; a pattern that does not sort
like time is compared parsed only (``segwise explain`` says so). ``segwise.timeformat`` decides.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlglot import exp

from segwise.timeframe import ts_text

if TYPE_CHECKING:
    from segwise.adapters.base import SqlFlavor
    from segwise.catalog import EventTableInfo


def raw_time(info: EventTableInfo, alias: str | None) -> exp.Column:
    """The raw event-time column (bare when ``alias`` is None: the plan's expressions)."""
    return exp.column(info.spec.event_time, table=alias, quoted=True)


def event_time(flavor: SqlFlavor, info: EventTableInfo, alias: str | None) -> exp.Expr:
    """The event time as a timestamp (naive UTC, or with a zone when the column has one)."""
    column = raw_time(info, alias)
    if info.encoding is not None:
        return flavor.event_time(column, info.encoding)
    if info.time_kind == "date":
        return exp.cast(column, exp.DataType.Type.TIMESTAMP)
    return column


def _constant(value: str | int | Decimal) -> exp.Expr:
    if isinstance(value, str):
        return exp.Literal.string(value)
    return exp.Literal.number(str(value))


def time_filter(
    flavor: SqlFlavor, info: EventTableInfo, alias: str | None, start: datetime | None, end: datetime | None
) -> list[exp.Expr]:
    """``[start, end)`` (naive UTC) on the table's event time, as pushable comparisons (on the
    bare column when ``alias`` is None: what a plan's ``TimeRange`` holds)."""
    out: list[exp.Expr] = []
    encoding = info.encoding
    converted = True
    if encoding is not None and encoding.order_preserving:
        low, high, high_op, exact = encoding.raw_bounds(start, end)
        column = raw_time(info, alias)
        if low is not None:
            out.append(exp.GTE(this=column, expression=_constant(low)))
        if high is not None:
            compare = exp.LT if high_op == "<" else exp.LTE
            out.append(compare(this=column.copy(), expression=_constant(high)))
        converted = not exact
    if not converted:
        return out
    has_tz = info.time_kind == "timestamptz"
    if encoding is None:
        parsed = flavor.time_for_compare(raw_time(info, alias), info.time_kind)
    else:
        parsed = flavor.time_for_compare(event_time(flavor, info, alias), "timestamp")
    if start is not None:
        out.append(exp.GTE(this=parsed, expression=flavor.timestamp_literal(ts_text(start), has_tz)))
    if end is not None:
        out.append(exp.LT(this=parsed.copy(), expression=flavor.timestamp_literal(ts_text(end), has_tz)))
    return out
