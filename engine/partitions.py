"""Date-partition pruning: a predicate on the raw partition column derived from the time range.

The project declares how a partition column encodes the event's (UTC) date or hour::

    partition: {column: event_date, granularity: day, format: date}

``format`` is ``date``, ``timestamp``, ``string:<strftime>`` (e.g. ``string:%Y-%m-%d``) or
``int:<strftime>`` (e.g. ``int:%Y%m%d``). The predicate compares the bare column with
constants (``event_date BETWEEN DATE '2025-01-01' AND DATE '2025-01-07'``), never wrapping the
column in a function, so every engine can prune partitions or use an index. It is added *beside*
the exact filter on the event time, so it only has to be a superset: bounds are floored to the
partition's granularity. String and integer formats must sort like the dates they encode
(year first, zero-padded), as ``%Y-%m-%d``, ``%Y%m%d`` and ``%Y-%m-%d-%H`` do.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlglot import exp

if TYPE_CHECKING:
    from segwise.adapters.base import SqlFlavor

    from .project import Partition


def floor_to(value: datetime, granularity: str) -> datetime:
    if granularity == "hour":
        return value.replace(minute=0, second=0, microsecond=0)
    if granularity == "day":
        return value.replace(hour=0, minute=0, second=0, microsecond=0)
    return value.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def partition_value(flavor: SqlFlavor, partition: Partition, moment: datetime) -> exp.Expr:
    """The partition column's encoding of ``moment`` (already floored), as a constant."""
    fmt = partition.format
    if fmt == "date":
        return exp.cast(exp.Literal.string(moment.strftime("%Y-%m-%d")), exp.DataType.Type.DATE)
    if fmt == "timestamp":
        return flavor.timestamp_literal(moment.strftime("%Y-%m-%d %H:%M:%S.%f"), False)
    kind, _, pattern = fmt.partition(":")
    text = moment.strftime(pattern)
    if kind == "int":
        return exp.Literal.number(int(text))
    return exp.Literal.string(text)


def partition_filter(
    flavor: SqlFlavor, partition: Partition, column: exp.Expr, start_utc: datetime | None, end_utc: datetime | None
) -> list[exp.Expr]:
    """``column >= P(start)`` and ``column <= P(last instant before end)``, floored to the grain."""
    out: list[exp.Expr] = []
    if start_utc is not None:
        low = partition_value(flavor, partition, floor_to(start_utc, partition.granularity))
        out.append(exp.GTE(this=column, expression=low))
    if end_utc is not None:
        last = floor_to(end_utc - timedelta(microseconds=1), partition.granularity)
        out.append(exp.LTE(this=column.copy(), expression=partition_value(flavor, partition, last)))
    return out
