"""Rule 2: prune date partitions.

A raw scan of a table that declares a partition column gets a predicate on the bare column,
derived from the range (widened for look-back windows; for first/last occurrence over the user's
history, only the side that can be bounded). The column is never wrapped in a function, so the
warehouse can skip partitions, row groups or index ranges (``partitions.partition_filter``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from segwise.partitions import floor_to

if TYPE_CHECKING:
    from segwise.plan import LogicalPlan
    from segwise.planner import Context


def apply(plan: LogicalPlan, context: Context) -> None:
    from segwise.planner import scan_start

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
