"""The logical plan: what each output series reads and computes, before any SQL exists.

``planner.build`` makes one :class:`SeriesNode` per output series (previous-period twins
included) with its :class:`Scan` and the operators above it; the ordered rules in
``segwise.rules`` rewrite it (answer from a rollup, prune partitions, share one scan between
series) and record the alternatives they weighed with their estimated cost, as typed operators
and scan fields that lowering reads (``segwise.lower``). A scan carries its events and its time
range as typed predicates with one sqlglot expression per table (``plan_parts``), which lowering
places as they are; rolling counts carry their date ``Spine``; shared scans are typed
(``SharedScan``, ``SharedReducedScan``). ``segwise explain`` prints :meth:`LogicalPlan.describe`;
``/api/explain`` gives :meth:`LogicalPlan.to_json`.

    Series A  unique_users by week
      Aggregate      COUNT(DISTINCT user) by bucket(week), platform
      Scan           events  ~3,741 of 3,741 rows
        events       event in ('page_view')
                     "event_name" = 'page_view'
        time         time in [2025-01-06 00:00:00, 2025-01-27 00:00:00) UTC
                     "event_time" >= CAST('2025-01-06 ...' AS TIMESTAMP) AND "event_time" < ...
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from .partitions import floor_to
from .plan_events import CohortReduction, CohortScan
from .plan_parts import Operator, Predicate, SharedReducedScan, SharedScan
from .plan_series import describe_series_parts, series_parts_json
from .plan_users import Join
from .units import USER, Unit

if TYPE_CHECKING:
    from .catalog import EventTableInfo, ResolvedProperty
    from .cohorts import Behaviour
    from .measures import Measure
    from .plan_events import Match
    from .plan_parts import EventNames, PartitionRange, TimeRange
    from .plan_rollup import RollupRead, RollupSplit
    from .plan_series import Fill, GroupBy, SameRows, Union
    from .query import Series
    from .rollups import RollupInfo
    from .timeframe import Timeframe

# the plan's parts, re-exported
__all__ = ["CohortReduction", "CohortScan", "Join", "Operator", "Predicate", "SharedReducedScan", "SharedScan"]


@dataclass(frozen=True)
class PartitionBound:
    """The partition predicate of one table: its bare partition column between two instants."""

    column: str
    granularity: str
    format: str
    low: datetime | None  # None: unbounded (first/last occurrence over a user's whole history)
    high: datetime | None

    def __str__(self) -> str:
        low = f"{self.column} >= P({floor_to(self.low, self.granularity):%Y-%m-%d %H:00})" if self.low else ""
        high = f"{self.column} <= P({floor_to(self.high, self.granularity):%Y-%m-%d %H:00})" if self.high else ""
        return " and ".join(p for p in (low, high) if p) + f" ({self.granularity}, {self.format})"


@dataclass(frozen=True)
class PartitionPruning:
    """Rule ``partitions``: the scan prunes its tables' partitions (a rollup: its raw edges), and
    in a UTC project a day partition column may stand in for the event time."""

    bounds: tuple[PartitionBound, ...]
    raw_edges: bool = False
    stands_in: str | None = None  # the column standing in for the event time
    predicate: PartitionRange | None = None  # per table, the comparisons on its partition column

    def __str__(self) -> str:
        text = ("the raw edges: " if self.raw_edges else "") + "; ".join(str(b) for b in self.bounds)
        if self.stands_in:
            text += (
                f"; {self.stands_in} stands in for the event time (day buckets from it; no event-time filter "
                "when the range is whole days)"
            )
        return text


@dataclass
class Scan:
    """One read of event rows: a raw event table (or several, ``UNION ALL`` of their pruned
    branches with canonical columns) or a rollup. Its events and its time range are typed
    predicates with one expression per table, which lowering places as they are."""

    tables: list[EventTableInfo]
    filters: list[Predicate]  # pushed into the scan: the conditions, plain comparisons on raw columns
    outer_filters: list[Predicate]  # need user properties or segments: applied after the user join
    columns: list[str]
    rows: int  # estimated rows read
    table_rows: int
    bytes: int
    selectivity: float  # share of the rows read that match the series' events
    partition: PartitionPruning | None = None  # set by the rule partitions
    rollup: RollupInfo | None = None
    events: EventNames | None = None  # the events read (per table: name = / IN)
    time: TimeRange | None = None  # the UTC instants read (range, look-back, occurrence window)
    rollup_read: RollupRead | None = None  # rule rollups: the columns the measure reads from the rollup
    rollup_split: RollupSplit | None = None  # rule rollups: the rollup's whole buckets read, the raw edges

    @property
    def union(self) -> bool:
        """Several tables: ``UNION ALL`` of one pruned branch each."""
        return len(self.tables) > 1 and self.rollup is None


@dataclass(frozen=True)
class Window(Operator):
    """First/last occurrence: each user's matching events ranked by time, rank 1 kept."""

    occurrence: str
    scope: str

    @property
    def detail(self) -> str:
        return f"RANK per user by time: keep the {self.occurrence} ({self.scope})"


@dataclass(frozen=True)
class TopN(Operator):
    """The first series' top ``limit`` groups; the rest map to ``Other`` before aggregating."""

    limit: int
    # a row reduced per (groups, user) holds each unit once: the unit is the user (another unit
    # has several users, so it is on several reduced rows)
    users_are_units: bool = True

    @property
    def detail(self) -> str:
        return f"top {self.limit} groups by the first series, the rest -> Other"


@dataclass(frozen=True)
class PreAggregate(Operator):
    """Rows reduced before the aggregate: ``days`` distinct (user, day) for rolling users,
    ``per_user`` per (user, keys) for per-user measures, ``before_join`` per (bucket, event
    dimensions, user) before a user join (rule ``preaggregate``), ``shared`` the same in one scan
    for several series (rule ``sharing``)."""

    mode: Literal["days", "per_user", "before_join", "shared"]
    keys: str = ""
    shape: RollupInfo | None = None  # before_join, shared: the dimensions and measures reduced to
    read: RollupRead | None = None  # before_join, shared: the columns this series' measure reads

    @property
    def parts(self) -> tuple[tuple[str, RollupRead], ...]:
        return (("measure", self.read),) if self.read is not None else ()

    @property
    def reduces_events(self) -> bool:
        """The scan itself reads reduced rows (a rule's choice), not raw events."""
        return self.mode in ("before_join", "shared")

    @property
    def detail(self) -> str:
        shape = self.shape
        dims = ", ".join(["bucket", *shape.dimensions, "user"]) if shape else "bucket, event dimensions, user"
        measures = f": {', '.join(shape.spec.measures)}" if shape else ""
        return {
            "days": "DISTINCT (user, day[, groups]) over range + look-back",
            "per_user": f"per (user, {self.keys})",
            "before_join": f"per ({dims}), before the join{measures}",
            "shared": f"per ({dims}), shared with the other series{measures}",
        }[self.mode]


@dataclass(frozen=True)
class Intervals(Operator):
    """Rolling users: ``[day, min(next active day, day + N))`` per user, as +1/-1 edges."""

    window_days: int

    @property
    def detail(self) -> str:
        return f"[day, min(next active day, day + {self.window_days})) per user: +1/-1 edges"


@dataclass(frozen=True)
class DayMask(Operator):
    """Rolling users (rule ``rolling``): per (user, groups) one integer whose bit d is set when
    the user is active d days before the range's last day, over the ``days`` of range and
    look-back; each bit then spread over the ``window_days - 1`` days after it."""

    window_days: int
    days: int
    bits: int

    @property
    def detail(self) -> str:
        words = -(-self.days // self.bits)
        per = "" if words == 1 else f" x {words} words"
        return (
            f"per (user, groups{', word' if words > 1 else ''}) a {self.bits}-bit mask of its active days"
            f"{per} over {self.days} days (range + look-back; GROUP BY user, no DISTINCT (user, day)); "
            f"each day spread over {self.window_days}, users per day by a histogram of the masks' bytes"
        )


@dataclass(frozen=True)
class Aggregate(Operator):
    """The measure per bucket and groups: ``plain``, ``across`` users (per-user measures),
    rolling ``edges`` summed up to each bucket's last day, or rolling ``bits``: the users whose
    spread day mask has each bucket's last day."""

    measure: str
    keys: str
    mode: Literal["plain", "across", "edges", "bits"] = "plain"
    prop: ResolvedProperty | None = None  # the measured property, resolved (lowering reads it)

    @property
    def detail(self) -> str:
        if self.mode == "edges":
            return f"edges summed up to each bucket's last day, by {self.keys}"
        if self.mode == "bits":
            return f"users whose mask has each bucket's last day, by {self.keys}"
        if self.mode == "across":
            return f"{self.measure} across users, by {self.keys}"
        return f"{self.measure} by {self.keys}"


@dataclass(frozen=True)
class ActiveDays(Operator):
    """Stickiness: distinct (unit, local day) of the matching events (``events``), counted per
    (unit, bucket of ``grain``)."""

    keys: str
    events: Match
    grain: str

    @property
    def parts(self) -> tuple[tuple[str, Match], ...]:
        return (("events", self.events),)

    @property
    def detail(self) -> str:
        return f"DISTINCT (user, local day), then days per (user, {self.keys})"


@dataclass(frozen=True)
class Histogram(Operator):
    """Units per number of active days (at least that many, ``cumulative``), by bucket and groups."""

    keys: str
    cumulative: bool = False

    @property
    def detail(self) -> str:
        how = "at least" if self.cumulative else "exactly"
        return f"users active on {how} d days, d = 1..days of the bucket, by {self.keys}"


@dataclass(frozen=True)
class Activity(Operator):
    """Lifecycle: distinct (unit, bucket) of the matching events (``events``) from ``start`` (the
    bucket before the range, UTC) to ``end``, and each unit's first matching event ever (read up
    to ``end``)."""

    keys: str
    events: Match
    start: datetime
    end: datetime

    @property
    def parts(self) -> tuple[tuple[str, Match], ...]:
        return (("events", self.events),)

    @property
    def detail(self) -> str:
        return (
            f"DISTINCT (user, {self.keys}) from the bucket before the range ({self.start:%Y-%m-%d %H:%M:%S} UTC) "
            f"to {self.end:%Y-%m-%d %H:%M:%S} UTC; each user's first event ever"
        )


@dataclass(frozen=True)
class Statuses(Operator):
    """Lifecycle: new, returning, resurrecting (active users) and dormant, counted per bucket;
    ``edges``: the bucket before the range, the range's buckets and the end of the last (naive
    local), numbered from 0 by a constant table."""

    keys: str
    edges: tuple[datetime, ...]

    @property
    def detail(self) -> str:
        return f"new / returning / resurrecting / dormant per (user, bucket), users counted by {self.keys}, status"


class _Scanned:
    """What lowering asks of a node with a scan and operators: its operators and the scan's
    partition decision."""

    scan: Scan
    operators: list[Operator]

    def has(self, kind: type[Operator]) -> bool:
        return any(isinstance(op, kind) for op in self.operators)

    @property
    def prune(self) -> bool:
        """The scan gets the partition predicate (rule partitions)."""
        return self.scan.partition is not None

    @property
    def partition_time(self) -> bool:
        """The day partition column stands in for the event time (rule partitions)."""
        return self.scan.partition is not None and self.scan.partition.stands_in is not None


@dataclass
class AnalysisNode(_Scanned):
    """An analysis other than a segmentation (``stickiness``): one scan of its event, the
    operators above it, and its time frame."""

    kind: str  # the query key: stickiness | lifecycle
    label: str
    tf: Timeframe
    scan: Scan
    operators: list[Operator] = field(default_factory=list)
    start: datetime | None = None  # the earliest UTC instant the scan reads (None: all history)
    end: datetime | None = None  # the UTC instant the scan reads up to (None: the range's end)
    exact_time: bool = False  # needs event times, not days: no partition column stands in

    def describe(self) -> list[str]:
        lines = [f"{self.kind.capitalize()} {self.label}"]
        lines += [line for op in reversed(self.operators) for line in op.describe()]
        return lines + _describe_scan(self.scan)

    def to_json(self) -> dict[str, Any]:
        return {
            "analysis": self.kind,
            "label": self.label,
            "operators": [op.to_json() for op in reversed(self.operators)],
            "scan": _scan_json(self.scan),
        }


@dataclass
class SeriesNode(_Scanned):
    """One output series: its scan, the operators above it (bottom first) and what the rules
    decided (scan sharing is recorded on the plan: several nodes take part)."""

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
    location: str = ""  # how errors name the series: ``series[1] (label B)`` (the bound query's ``where``)

    @property
    def planned_conditions(self) -> dict[int, Predicate]:
        """The scan's predicates of query conditions, by the condition's identity (lowering)."""
        return planned_conditions(self.scan)

    @property
    def preaggregate(self) -> bool:
        """Events are reduced per (bucket, user) in the scan (rules preaggregate, sharing)."""
        return any(isinstance(op, PreAggregate) and op.reduces_events for op in self.operators)

    def to_json(self) -> dict[str, Any]:
        scan = self.scan
        return {
            "label": self.label,
            "measure": str(self.measure),
            "previous": self.previous,
            "operators": [op.to_json() for op in reversed(self.operators)],
            "scan": _scan_json(scan),
        }


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
    shared: list[SharedScan] = field(default_factory=list)  # groups of node positions read by one scan
    shared_rows: list[SharedReducedScan] = field(default_factory=list)  # top-N groups reading one reduced scan
    alternatives: list[Alternative] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    post: list[str] = field(default_factory=list)  # post-processing in Arrow
    rules: list[str] = field(default_factory=list)  # the rules applied, in order
    cost_source: str = ""
    analysis: AnalysisNode | None = None  # another analysis than a segmentation (then no nodes)
    unit: str = ""  # the unit counted, when not users: its id column and where it is joined from
    counted: Unit = USER  # the unit counted, typed: lowering reads each row's unit id from it
    users_unique: bool = True  # after a per-user reduction each user is on one row per output group
    behaviour: Behaviour | None = None  # the segment and category breakdowns, resolved (cohorts.py)
    cohort: CohortReduction | None = None  # their per-unit reduction, computed once for the query
    group_by: GroupBy | None = None  # the breakdown's typed keys and the segment restriction
    union: Union | None = None  # the statement's UNION ALL of series (or shared-scan) branches
    fill: Fill | None = None  # shaping's zero fill: the buckets every series covers, fill values
    same_rows: list[SameRows] = field(default_factory=list)  # top-N series sharing materialized rows
    max_rows: int | None = None  # at most this many rows in the statement's answer (``plan_bound``), None: unproven

    def copy(self) -> LogicalPlan:
        """A plan a rule may change without touching this one (nodes, scans and lists copied;
        what they point at — tables, series, measures, rollups — shared: rules never change it)."""
        nodes = [
            replace(
                node,
                scan=replace(
                    node.scan,
                    filters=list(node.scan.filters),
                    outer_filters=list(node.scan.outer_filters),
                    columns=list(node.scan.columns),
                ),
                operators=list(node.operators),
            )
            for node in self.nodes
        ]
        return replace(
            self,
            nodes=nodes,
            shared=list(self.shared),
            shared_rows=list(self.shared_rows),
            same_rows=list(self.same_rows),
            alternatives=[replace(a) for a in self.alternatives],
            decisions=list(self.decisions),
            post=list(self.post),
            rules=list(self.rules),
            analysis=None
            if self.analysis is None
            else replace(self.analysis, scan=replace(self.analysis.scan), operators=list(self.analysis.operators)),
        )

    def describe(self) -> list[str]:
        """The plan as indented text (for ``segwise explain``)."""
        lines: list[str] = [f"Unit           {self.unit}"] if self.unit else []
        lines += describe_series_parts(self)
        for position, node in enumerate(self.nodes):
            scan = node.scan
            head = f"Series {node.label}  {node.measure}" + ("  (previous period)" if node.previous else "")
            lines.append(head)
            lines += [line for op in reversed(node.operators) for line in op.describe()]
            if node.shared is not None:
                shared = self.shared[node.shared]
                group = shared.positions
                first = self.nodes[group[0]]
                if group[0] != position:
                    lines.append(f"  SharedScan     the scan of series {first.label} ({shared.how})")
                    continue
                others = ", ".join(self.nodes[i].label for i in group[1:])
                lines.append(f"  SharedScan     one scan also serves {others} ({shared.how})")
                lines += _describe_predicate("events", shared.events) + _describe_predicate("time", shared.time)
            if node.shared_rows is not None:
                reduced = self.shared_rows[node.shared_rows]
                group = reduced.positions
                if group[0] != position:
                    first = self.nodes[group[0]]
                    lines.append(f"  SharedScan     the reduced rows of series {first.label} (its events by condition)")
                    continue
                others = ", ".join(self.nodes[i].label for i in group[1:])
                lines.append(f"  SharedScan     one reduced scan also serves {others} (each by its events)")
                lines.append(f"    per series   {reduced.describe()}")
            lines += _describe_scan(scan)
        if self.analysis is not None:
            lines += self.analysis.describe()
        if self.cohort is not None:
            lines += self.cohort.describe()
        for step in ([str(self.fill)] if self.fill is not None else []) + self.post:
            lines.append(f"Post-process   {step}")
        bound = "not proven" if self.max_rows is None else f"at most {self.max_rows:,}"
        return [*lines, f"Answer rows    {bound} (before shaping)"]

    def to_json(self) -> dict[str, Any]:
        """The plan as data (``/api/explain``): nodes with their operators and scans, the shared
        scans, the rules applied, the post-processing."""
        return {
            "nodes": [node.to_json() for node in self.nodes],
            "analysis": self.analysis.to_json() if self.analysis is not None else None,
            "shared_scans": [
                {
                    "series": [self.nodes[p].label for p in group.positions],
                    "table": group.table,
                    "how": group.how,
                    "events": _predicate_json(group.events),
                    "time": _predicate_json(group.time),
                }
                for group in self.shared
            ],
            "shared_reduced_scans": [
                {
                    "series": [self.nodes[p].label for p in group.positions],
                    "table": group.table,
                    "per_series": group.describe(),
                }
                for group in self.shared_rows
            ],
            "rules": list(self.rules),
            "unit": self.unit or None,
            "cohort": None if self.cohort is None else self.cohort.to_json(),
            "post": list(self.post),
            "max_rows": self.max_rows,
            "cost_source": self.cost_source,
            **series_parts_json(self),
        }


def planned_conditions(scan: Scan) -> dict[int, Predicate]:
    """A scan's predicates of query conditions, by the condition's identity."""
    return {
        id(p.condition): p
        for p in [*scan.filters, *scan.outer_filters]
        if p.condition is not None and p.expression is not None
    }


def _describe_scan(scan: Scan) -> list[str]:
    source = (
        f"rollup {scan.rollup.spec.name} ({scan.rollup.ref})"
        if scan.rollup
        else ", ".join(str(t.ref) for t in scan.tables)
    )
    lines = [f"  Scan           {source}  ~{scan.rows:,} of {scan.table_rows:,} rows"]
    if scan.union:
        lines.append(f"    union        UNION ALL of {len(scan.tables)} pruned branches (canonical columns)")
    lines += _describe_predicate("events", scan.events) + _describe_predicate("time", scan.time)
    if scan.filters:
        lines.append(f"    pushed       {'; '.join(map(str, scan.filters))}")
    if scan.partition:
        lines.append(f"    partitions   {scan.partition}")
        if scan.partition.predicate is not None and scan.partition.predicate.sql:
            lines.append(f"    {'':<12} {scan.partition.predicate.sql}")
    lines += scan.rollup_read.describe("measure") if scan.rollup_read is not None else []
    lines += scan.rollup_split.describe("split") if scan.rollup_split is not None else []
    if scan.outer_filters:
        lines.append(f"    after join   {'; '.join(map(str, scan.outer_filters))}")
    lines.append(f"    columns      {', '.join(scan.columns)}")
    return lines


def _scan_json(scan: Scan) -> dict[str, Any]:
    return {
        "source": f"rollup {scan.rollup.spec.name}" if scan.rollup else [str(t.ref) for t in scan.tables],
        "rows": scan.rows,
        "table_rows": scan.table_rows,
        "bytes": scan.bytes,
        "union": scan.union,
        "events": _predicate_json(scan.events),
        "time": _predicate_json(scan.time),
        "pushed": [str(f) for f in scan.filters],
        "after_join": [str(f) for f in scan.outer_filters],
        "partitions": str(scan.partition) if scan.partition else None,
        "rollup_columns": str(scan.rollup_read) if scan.rollup_read is not None else None,
        "rollup_split": scan.rollup_split.to_json() if scan.rollup_split is not None else None,
        "columns": scan.columns,
    }


def _describe_predicate(name: str, predicate: Predicate | None) -> list[str]:
    """A typed predicate in explain: its text, then the expression lowering places (SQL)."""
    if predicate is None:
        return []
    return [f"    {name:<12} {predicate}"] + ([f"    {'':<12} {predicate.sql}"] if predicate.sql else [])


def _predicate_json(predicate: Predicate | None) -> dict[str, Any] | None:
    """A typed predicate as data: its text and its expression as (dialect-neutral) SQL."""
    return None if predicate is None else {"text": predicate.text, "sql": predicate.sql}


def same_filters(nodes: list[SeriesNode]) -> bool:
    first = nodes[0]
    return all(
        n.series.event == first.series.event and n.series.where == first.series.where and n.tf == first.tf
        for n in nodes[1:]
    )
