"""The typed parts of a segmentation's plan that lowering and shaping read as they are: the
breakdown's group-by keys and the segment restriction (:class:`GroupBy`), the shape rows are
reduced to before a join (:func:`reduced_shape`, carried by ``PreAggregate``), the series that
read the same materialized rows under top-N (:class:`SameRows`, rule ``materialize``), the
``UNION ALL`` of the statement's branches (:class:`Union`) and the zero fill of the answer
(:class:`Fill`).

The planner builds ``GroupBy``, ``Union`` and ``Fill`` (``group_by``, ``union``, ``fill``); rules
rewrite them (``sharing`` makes one branch of a shared scan) and add the rest; explain prints
them (``describe_series_parts``: the keys, the segment and its and the categories' user
conditions, the union); ``segwise.lower`` and ``execute.shape_result`` read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .adapters.base import TableRef
from .bind import EVENT_BREAKDOWN, SEGMENT_BREAKDOWN
from .catalog import EVENT_PROPERTY, USER_PROPERTY
from .plan_parts import condition_predicate
from .plan_time import Bucketing, bucketing
from .project import Rollup
from .rollups import EVENT_DIMENSION, RollupInfo

if TYPE_CHECKING:
    from datetime import datetime

    from .bind import BoundQuery
    from .catalog import Catalog, EventTableInfo, ResolvedProperty
    from .cohorts import Behaviour, CategoryGroups, Conjunction
    from .plan_parts import Predicate
    from .query import Condition, Series

KeyKind = Literal["event", "event_property", "user_property", "category", "segment"]


@dataclass(frozen=True)
class GroupKey:
    """One breakdown column: the event name, an event property (a column of the scan), a user
    property (read through the user join), a category (the first of its groups that holds, from
    the per-unit reduction) or the segment split (in / not in)."""

    position: int
    name: str
    kind: KeyKind
    prop: ResolvedProperty | None = None
    category: CategoryGroups | None = None

    def __str__(self) -> str:
        if self.kind == "event":
            return f"{self.name}: the event name"
        if self.kind == "segment":
            return f"{self.name}: in / not in the segment"
        if self.category is not None:
            return f"{self.name}: category, first of {len(self.category.groups)} groups, else {self.category.other!r}"
        assert self.prop is not None
        if self.kind == "user_property":
            return f"{self.name}: user table {self.prop.user_table} column {self.prop.column!r} (after the join)"
        return f"{self.name}: event column {self.prop.column!r}"


@dataclass(frozen=True)
class SegmentFilter:
    """The query's segment: a restriction of the rows to units in it (a semi-join on the
    per-unit reduction, or an anti-join) unless the breakdown splits by it (``split``)."""

    segment: Conjunction
    split: bool

    def __str__(self) -> str:
        how = "anti-join" if self.segment.without_history else "semi-join"
        what = "split into in / not in" if self.split else "rows restricted to units in the segment"
        return f"{what} ({how} on the per-unit flags" + (", user conditions" if self.segment.user_where else "") + ")"


@dataclass(frozen=True)
class GroupBy:
    """The breakdown's group-by keys, in the query's order, the segment restriction and the time
    key (``time``: the bucket, ``plan_time``); every series (and an analysis) groups by them."""

    keys: tuple[GroupKey, ...]
    segment: SegmentFilter | None = None
    time: Bucketing | None = None
    # the user conditions of the segment and the categories (``user_where``): each a predicate
    # over its bare column with its property resolved (the user table and column lowering reads)
    user_where: tuple[Predicate, ...] = ()

    def user_condition(self, cond: Condition) -> Predicate:
        """The plan's predicate of the segment's or a category's user condition."""
        found = next((p for p in self.user_where if p.condition is cond), None)
        assert found is not None, f"the plan's GroupBy carries user condition {cond.property!r}"
        return found

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.keys)

    @property
    def properties(self) -> tuple[ResolvedProperty, ...]:
        """The properties the keys read (event and user properties)."""
        return tuple(k.prop for k in self.keys if k.prop is not None)


def group_by(bound: BoundQuery, behaviour: Behaviour | None) -> GroupBy:
    """The query's breakdown as typed keys, its segment (``behaviour``: resolved) and its time
    bucket (the grain in the project's zone and week, rendered in the target flavor)."""
    query = bound.query
    project = bound.project
    time = bucketing(bound.flavor, bound.timeframe.grain, project.timezone, project.week_start_index)
    keys: list[GroupKey] = []
    segment = behaviour.segment if behaviour is not None else None
    for position, name in enumerate(query.breakdown):
        if name == EVENT_BREAKDOWN:
            keys.append(GroupKey(position, name, "event"))
        elif name == SEGMENT_BREAKDOWN and query.segment is not None:
            keys.append(GroupKey(position, name, "segment"))
        elif bound.is_category(name):
            category = behaviour.category(name) if behaviour is not None else None
            assert category is not None, "cohorts.resolve resolves the breakdown's categories"
            keys.append(GroupKey(position, name, "category", category=category))
        else:
            prop = bound.catalog.resolve(name, f"breakdown[{position}]")
            kind: KeyKind = "user_property" if prop.source == USER_PROPERTY else "event_property"
            keys.append(GroupKey(position, name, kind, prop=prop))
    restriction = None
    if query.segment is not None:
        assert segment is not None, "cohorts.resolve resolves the segment"
        restriction = SegmentFilter(segment, SEGMENT_BREAKDOWN in query.breakdown)
    conjunctions = [segment] if segment is not None else []
    conjunctions += [c for k in keys if k.category is not None for _label, c in k.category.groups]
    conditions = {id(cond): cond for c in conjunctions for cond, _where in c.user_where}
    user_where = tuple(condition_predicate(bound.flavor, bound.catalog, c)[0] for c in conditions.values())
    return GroupBy(tuple(keys), restriction, time, user_where)


def reduced_shape(
    info: EventTableInfo, series: list[Series], measured: list[str | None], catalog: Catalog, groups: GroupBy
) -> RollupInfo:
    """The rollup-like shape (never stored) rows of table ``info`` are reduced to per (bucket,
    event dimensions, user) before a join (rule ``preaggregate``), or for the series of a shared
    top-N scan (rule ``sharing``: ``series`` and their measured properties, all of them): the event
    name, the event properties their conditions and the breakdown read, the events and the
    measured property's partials."""
    names = [c.property for s in series for m in s.members for c in m.where]
    names += [c.property for s in series for c in s.where]
    dims: dict[str, str] = {}
    if info.spec.event_name is not None:
        dims[EVENT_DIMENSION] = info.spec.event_name
    props = [catalog.resolve(name, "plan") for name in names] + list(groups.properties)
    for prop in props:
        if prop.source == EVENT_PROPERTY and prop.column != info.spec.event_name:
            dims[prop.column] = prop.column
    measures = ["events"]
    for prop_name in dict.fromkeys(p for p in measured if p):
        measures += [f"{k}:{prop_name}" for k in ("sum", "count", "min", "max")]
    spec = Rollup(name="preaggregation", table="_preaggregated", grain="day", measures=measures, users=True)
    return RollupInfo(
        spec=spec,
        ref=TableRef(("_preaggregated",)),
        source_index=catalog.event_tables.index(info),
        source=info,
        definition="",
        dimensions=dims,
        user_column=info.spec.user_id,
    )


@dataclass(frozen=True)
class SameRows:
    """Rule ``materialize`` (top-N): the series at ``positions`` read the same rows (same events,
    filters and range), so one materialized CTE holds them with the rollup inputs every one of
    their measures reads (``inputs``)."""

    positions: tuple[int, ...]
    inputs: tuple[str, ...]

    def __str__(self) -> str:
        return f"one materialized CTE with {', '.join(self.inputs)}"


@dataclass(frozen=True)
class Union:
    """The statement: ``UNION ALL`` of its branches, in order; a branch is one series, or the
    series one shared scan serves (rule ``sharing``), by their positions."""

    branches: tuple[tuple[int, ...], ...]

    def without(self, positions: tuple[int, ...]) -> Union:
        """The union with the branches of ``positions`` made one, where the first of them was."""
        merged: list[tuple[int, ...]] = []
        for branch in self.branches:
            if branch[0] == positions[0]:
                merged.append(positions)
            elif not set(branch) & set(positions):
                merged.append(branch)
        return Union(tuple(merged))


def union(count: int) -> Union:
    """One branch per series, in order."""
    return Union(tuple((position,) for position in range(count)))


@dataclass(frozen=True)
class Fill:
    """Shaping's zero fill: every series over every bucket of the range for each breakdown value
    it has, empty cells 0 for counts (``zero``, per output series) and null otherwise."""

    grain: str
    buckets: tuple[datetime, ...]
    zero: tuple[bool, ...]

    def __str__(self) -> str:
        span = f"{self.buckets[0]:%Y-%m-%d %H:%M} .. {self.buckets[-1]:%Y-%m-%d %H:%M}" if self.buckets else "none"
        zeros = sum(self.zero)
        return (
            f"empty buckets filled: {len(self.buckets)} {self.grain} buckets {span}; "
            f"0 for {zeros} count series, null for {len(self.zero) - zeros}"
        )


def fill(grain: str, buckets: tuple[datetime, ...], zero: list[bool]) -> Fill:
    """The fill of a segmentation's answer over ``buckets`` (``zero``: per output series)."""
    return Fill(grain, buckets, tuple(zero))


def describe_series_parts(plan: Any) -> list[str]:
    """The plan-wide parts in explain: the group-by keys, the segment, the union."""
    lines: list[str] = []
    groups: GroupBy | None = plan.group_by
    if groups is not None and groups.time is not None:
        lines.append(f"Bucket         {groups.time}")
        lines += [f"{'':<15}{groups.time.sql}"] if groups.time.sql else []
    if groups is not None and groups.keys:
        lines.append("GroupBy        " + "; ".join(map(str, groups.keys)))
    if groups is not None and groups.segment is not None:
        lines.append(f"Segment        {groups.segment}")
    for predicate in groups.user_where if groups is not None else ():
        prop = predicate.prop
        read = f": user table {prop.user_table} column {prop.column!r}" if prop is not None else ""
        lines.append(f"UserWhere      {predicate}{read}")
        lines += [f"{'':<15}{predicate.sql}"] if predicate.sql else []
    joined: Union | None = plan.union
    if joined is not None and len(joined.branches) > 1:
        labels = ["+".join(plan.nodes[p].label for p in branch) for branch in joined.branches]
        lines.append(f"Union          UNION ALL of {len(labels)} branches: {', '.join(labels)}")
    for same in plan.same_rows:
        lines.append(f"SameRows       {', '.join(plan.nodes[p].label for p in same.positions)}: {same}")
    return lines


def series_parts_json(plan: Any) -> dict[str, Any]:
    """The same as data (``/api/explain``)."""
    groups: GroupBy | None = plan.group_by
    joined: Union | None = plan.union
    return {
        "group_by": [{"name": k.name, "kind": k.kind, "detail": str(k)} for k in groups.keys] if groups else [],
        "bucket": groups.time.to_json() if groups is not None and groups.time is not None else None,
        "segment": str(groups.segment) if groups is not None and groups.segment is not None else None,
        "user_where": [{"text": p.text, "sql": p.sql} for p in groups.user_where] if groups is not None else [],
        "union": [[plan.nodes[p].label for p in b] for b in joined.branches] if joined is not None else None,
        "fill": str(plan.fill) if plan.fill is not None else None,
        "same_rows": [
            {"series": [plan.nodes[p].label for p in same.positions], "inputs": list(same.inputs)}
            for same in plan.same_rows
        ],
    }
