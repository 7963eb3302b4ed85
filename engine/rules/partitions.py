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

from segwise.plan import PartitionBound, PartitionPruning
from segwise.plan_parts import partition_range

if TYPE_CHECKING:
    from segwise.adapters.base import SqlFlavor
    from segwise.plan import LogicalPlan, Scan
    from segwise.rules.context import Context


def apply(plan: LogicalPlan, context: Context) -> LogicalPlan:
    plan = plan.copy()  # a rule never changes the plan it is given
    utc = context.bound.project.timezone == "UTC"
    flavor = context.bound.flavor
    for node in plan.nodes:
        exact_time = bool(node.series.occurrence)  # first/last occurrence orders by the exact time
        node.scan.partition = pruning(node.scan, utc and not exact_time, flavor)
    if plan.analysis is not None:
        analysis = plan.analysis
        analysis.scan.partition = pruning(analysis.scan, utc and not analysis.exact_time, flavor)
    return plan


def pruning(scan: Scan, may_stand_in: bool, flavor: SqlFlavor) -> PartitionPruning | None:
    """The partition predicate of a scan reading its time range (per table, the comparisons on
    its bare partition column: ``predicate``), or None when no table it reads is partitioned.
    The day partition column stands in for the event time (``may_stand_in``: a UTC project, where
    it encodes the event's UTC date, which is its local date) when the scan reads one raw table
    with ``granularity: day, format: date``."""
    partitioned = [t.spec.partition for t in scan.tables if t.spec.partition is not None]
    if not partitioned or scan.time is None:
        return None
    start, end = scan.time.start, scan.time.end
    bounds = tuple(PartitionBound(p.column, p.granularity, p.format, start, end) for p in partitioned)
    first = scan.tables[0].spec.partition
    stands_in = (
        may_stand_in
        and len(scan.tables) == 1
        and scan.rollup is None
        and first is not None
        and first.granularity == "day"
        and first.format == "date"
    )
    predicate = partition_range(flavor, scan.tables, start, end)
    column = first.column if stands_in and first else None
    return PartitionPruning(bounds, scan.rollup is not None, column, predicate)
