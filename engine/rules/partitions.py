"""Rule 2: prune date partitions.

A raw scan of a table that declares a partition column gets a predicate on the bare column,
derived from the range (widened for look-back windows; for first/last occurrence over the user's
history, only the side that can be bounded). The column is never wrapped in a function, so the
warehouse can skip partitions, row groups or index ranges (``partitions.partition_filter``).

In a UTC project with ``granularity: day, format: date`` partitions, the partition column is the
event's date, so it also stands in for the event time: day (and coarser) buckets are computed
from it, and when the range is whole days the event-time comparison is dropped (the partition
predicate is then exact). Reading a DATE instead of converting a TIMESTAMP is what a hand-written
query does; the project file's partition declaration is the promise that makes it exact.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from segwise.partitions import floor_to
from segwise.plan import scan_start

if TYPE_CHECKING:
    from segwise.plan import LogicalPlan, SeriesNode
    from segwise.rules.context import Context


def apply(plan: LogicalPlan, context: Context) -> LogicalPlan:

    for node in plan.nodes:
        partitioned = [t for t in node.scan.tables if t.spec.partition is not None]
        if not partitioned:
            continue
        node.prune = True
        start = scan_start(node.series, node.measure, node.tf)
        parts = []
        for info in partitioned:
            spec = info.spec.partition
            assert spec is not None
            low = f"{spec.column} >= P({floor_to(start, spec.granularity):%Y-%m-%d %H:00})" if start else ""
            high = f"{spec.column} <= P({floor_to(node.tf.end_utc, spec.granularity):%Y-%m-%d %H:00})"
            parts.append(" and ".join(p for p in (low, high) if p) + f" ({spec.granularity}, {spec.format})")
        where = "the raw edges: " if node.scan.rollup is not None else ""
        node.scan.partition = where + "; ".join(parts)
        if stands_in(node, context):
            node.partition_time = True
            spec = node.scan.tables[0].spec.partition
            assert spec is not None
            node.scan.partition += (
                f"; {spec.column} stands in for the event time (day buckets from it; no event-time filter "
                "when the range is whole days)"
            )
    return plan


def stands_in(node: SeriesNode, context: Context) -> bool:
    """Whether the day partition column can replace the event time for this scan: a UTC project
    (the column encodes the event's UTC date, which is then its local date), one raw table with
    ``granularity: day, format: date``, no first/last occurrence (it orders by the exact time)."""
    if context.bound.project.timezone != "UTC" or len(node.scan.tables) != 1 or node.series.occurrence:
        return False
    if node.scan.rollup is not None:
        return False
    spec = node.scan.tables[0].spec.partition
    return spec is not None and spec.granularity == "day" and spec.format == "date"
