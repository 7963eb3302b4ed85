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

from segwise.plan import PartitionBound, PartitionPruning, scan_start

if TYPE_CHECKING:
    from segwise.plan import LogicalPlan, SeriesNode
    from segwise.rules.context import Context


def apply(plan: LogicalPlan, context: Context) -> LogicalPlan:
    plan = plan.copy()  # a rule never changes the plan it is given
    for node in plan.nodes:
        partitioned = [t for t in node.scan.tables if t.spec.partition is not None]
        if not partitioned:
            continue
        start = scan_start(node.series, node.measure, node.tf)
        bounds = []
        for info in partitioned:
            spec = info.spec.partition
            assert spec is not None
            bounds.append(PartitionBound(spec.column, spec.granularity, spec.format, start, node.tf.end_utc))
        column = node.scan.tables[0].spec.partition.column if stands_in(node, context) else None  # type: ignore[union-attr]
        node.scan.partition = PartitionPruning(tuple(bounds), node.scan.rollup is not None, column)
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
