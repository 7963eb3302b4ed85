"""The logical plan: what each output series reads and computes, before any SQL exists.

``planner.build`` makes one :class:`SeriesNode` per output series (previous-period twins
included) with its :class:`Scan` and the operators above it; the ordered rules in
``segwise.rules`` rewrite it (answer from a rollup, prune partitions, share one scan between
series) and record the alternatives they weighed with their estimated cost. The compiler then
renders the rewritten plan with sqlglot. ``segwise explain`` prints :meth:`LogicalPlan.describe`.

    Series A  unique_users by week
      Aggregate      COUNT(DISTINCT user) by bucket(week), platform
      Scan           events  [event_name = 'page_view'; time in range]  partitions: event_date ...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .catalog import EventTableInfo
    from .measures import Measure
    from .query import Series
    from .rollups import RollupInfo
    from .timeframe import Timeframe


@dataclass
class Scan:
    """One read of event rows: a raw event table (or several, ``UNION ALL``) or a rollup."""

    tables: list[EventTableInfo]
    filters: list[str]  # pushed into the scan: plain comparisons on raw columns
    outer_filters: list[str]  # need user properties or segments: applied after the user join
    columns: list[str]
    rows: int  # estimated rows read
    table_rows: int
    bytes: int
    selectivity: float  # share of the rows read that match the series' events
    partition: str | None = None  # the pruning predicate, once the rule has added it
    rollup: RollupInfo | None = None


@dataclass
class Operator:
    kind: str  # Join | PreAggregate | Aggregate | TopN
    detail: str


@dataclass
class SeriesNode:
    label: str
    index: int  # position in the query's series
    series: Series
    measure: Measure
    tf: Timeframe
    previous: bool
    scan: Scan
    operators: list[Operator] = field(default_factory=list)
    shared: int | None = None  # index into LogicalPlan.shared when one scan serves several series
    shared_rows: int | None = None  # top-N: index into LogicalPlan.shared_rows (one reduced scan for several)
    prune: bool = False  # add the partition predicate (set by the pruning rule)
    preaggregate: bool = False  # reduce per (bucket, user) before the user join (preaggregate rule)
    partition_time: bool = False  # the day partition column stands in for the event time (partitions rule)


@dataclass
class Alternative:
    """A way to run (part of) the query the planner considered, with its estimated cost."""

    name: str
    rows: int
    bytes: int
    seconds: float
    chosen: bool
    note: str = ""


@dataclass
class LogicalPlan:
    nodes: list[SeriesNode]
    shared: list[list[int]] = field(default_factory=list)  # groups of node positions read by one scan
    shared_rows: list[list[int]] = field(default_factory=list)  # top-N groups reading one reduced scan
    alternatives: list[Alternative] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    post: list[str] = field(default_factory=list)  # post-processing in Arrow
    rules: list[str] = field(default_factory=list)  # the rules applied, in order
    cost_source: str = ""

    def describe(self) -> list[str]:
        """The plan as indented text (for ``segwise explain``)."""
        lines: list[str] = []
        for position, node in enumerate(self.nodes):
            scan = node.scan
            head = f"Series {node.label}  {node.measure}" + ("  (previous period)" if node.previous else "")
            lines.append(head)
            for op in reversed(node.operators):
                lines.append(f"  {op.kind:<14} {op.detail}")
            if node.shared is not None:
                group = self.shared[node.shared]
                first = self.nodes[group[0]]
                if group[0] != position:
                    lines.append(f"  SharedScan     the scan of series {first.label} (conditional aggregates)")
                    continue
                others = ", ".join(self.nodes[i].label for i in group[1:])
                lines.append(f"  SharedScan     one scan also serves {others} (conditional aggregates)")
            if node.shared_rows is not None:
                group = self.shared_rows[node.shared_rows]
                if group[0] != position:
                    first = self.nodes[group[0]]
                    lines.append(f"  SharedScan     the reduced rows of series {first.label} (its events by condition)")
                    continue
                others = ", ".join(self.nodes[i].label for i in group[1:])
                lines.append(f"  SharedScan     one reduced scan also serves {others} (each by its events)")
            source = (
                f"rollup {scan.rollup.spec.name} ({scan.rollup.ref})"
                if scan.rollup
                else ", ".join(str(t.ref) for t in scan.tables)
            )
            lines.append(f"  Scan           {source}  ~{scan.rows:,} of {scan.table_rows:,} rows")
            if scan.filters:
                lines.append(f"    pushed       {'; '.join(scan.filters)}")
            if scan.partition:
                lines.append(f"    partitions   {scan.partition}")
            if scan.outer_filters:
                lines.append(f"    after join   {'; '.join(scan.outer_filters)}")
            lines.append(f"    columns      {', '.join(scan.columns)}")
        for step in self.post:
            lines.append(f"Post-process   {step}")
        return lines


def same_filters(nodes: list[SeriesNode]) -> bool:
    first = nodes[0]
    return all(
        n.series.event == first.series.event and n.series.where == first.series.where and n.tf == first.tf
        for n in nodes[1:]
    )


def scan_start(series: Series, measure: Measure, tf: Timeframe) -> datetime | None:
    """The earliest UTC instant a series reads (look-back for rolling users, history for first/last)."""
    if series.occurrence and series.occurrence_scope == "ever":
        return None
    start = tf.start_utc
    if measure.is_rolling:
        start -= timedelta(days=(measure.window_days or 1))
    return start
