"""Bind: a validated query + the project's catalog -> a :class:`BoundQuery`.

Every name the query uses is resolved here and checked against the catalog (events, event and
user properties, which tables hold them) and the plugin registry (measures), and every
condition's values against their property's type, before a plan exists: errors name the query
(``series[1] (label B) > where[0] > value``), never the plan or the SQL. The pydantic models
(``segwise.query``) check shape only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlglot import exp

from .catalog import EVENT_PROPERTY, USER_PROPERTY
from .conditions import NUMERIC, build_condition
from .errors import CatalogError, SpecError, UnsupportedError
from .measures import parse_measure
from .query_analyses import Stickiness
from .registry import measure_definitions
from .timeframe import previous_timeframe
from .units import USER, Unit, check_tables, resolve_unit

if TYPE_CHECKING:
    from segwise.adapters.base import SqlFlavor

    from .catalog import Catalog, EventTableInfo, ResolvedProperty
    from .measures import Measure
    from .project import ProjectSpec
    from .query import Condition, EventFilter, Query, Series
    from .query_funnel import FunnelExclusion, FunnelStep
    from .timeframe import Timeframe

EVENT_BREAKDOWN = "event"
SEGMENT_BREAKDOWN = "segment"
PREVIOUS_SUFFIX = " (previous)"
RESERVED_COLUMNS = ("bucket", "series", "value")


@dataclass(frozen=True)
class OutputItem:
    """One output series before planning: a query series over a time frame (the current one, or
    the previous period's for ``compare``)."""

    label: str
    series: Series
    measure: Measure
    tf: Timeframe
    previous: bool
    index: int  # position in the query's series


@dataclass(frozen=True)
class BoundQuery:
    """A query whose every name is resolved against one project's catalog."""

    project: ProjectSpec
    catalog: Catalog
    query: Query
    timeframe: Timeframe
    measures: tuple[Measure, ...]
    items: tuple[OutputItem, ...]
    flavor: SqlFlavor  # the target's: literals in the plan's predicates are in its types
    unit: Unit = USER  # what counts as one (``unit:``): the one place every lowering reads the id from

    def where(self, index: int) -> str:
        """How errors name series ``index``: ``series[1] (label B)``."""
        series = self.query.series[index]
        return f"series[{index}] (label {series.label or self.query.labels[index]})"

    def users_unique_after_reduction(self) -> bool:
        """After a per-user reduction, is each user on at most one row of each output group? Yes
        without top-N; with top-N only when every breakdown is a property of the user (then a
        user is in one group, and so in Other at most once)."""
        if not self.unit.is_user:  # rows are reduced per user id, and a unit has several users
            return False
        if not self.query.breakdown or self.query.breakdown_limit is None:
            return True
        return all(
            name == SEGMENT_BREAKDOWN
            or self.is_category(name)
            or (name != EVENT_BREAKDOWN and self.catalog.resolve(name, "breakdown").source == USER_PROPERTY)
            for name in self.query.breakdown
        )

    def is_category(self, name: str) -> bool:
        """Whether breakdown ``name`` is a category (the query's or the project's), not a property."""
        return is_category(self.project, self.query, name)


def is_category(project: ProjectSpec, query: Query, name: str) -> bool:
    """Whether ``name`` names a category of the query or the project (a category wins over a
    property of the same name)."""
    return name in query.categories or name in project.categories


def bind(project: ProjectSpec, catalog: Catalog, query: Query, timeframe: Timeframe, flavor: SqlFlavor) -> BoundQuery:
    """Resolve and check ``query`` for ``flavor``'s warehouse; raise the first problem, located."""
    measures = tuple(_measure(series.measure, index, query) for index, series in enumerate(query.series))
    _check_query(project, query, measures, flavor)
    items = [
        OutputItem(s.label or query.labels[i], s, m, timeframe, False, i)
        for i, (s, m) in enumerate(zip(query.series, measures, strict=True))
    ]
    if query.compare == "previous_period":
        previous = previous_timeframe(query, timeframe, project.week_start_index, project.tz)
        items += [
            OutputItem(f"{o.label}{PREVIOUS_SUFFIX}", o.series, o.measure, previous, True, o.index) for o in items
        ]
    unit = resolve_unit(project, catalog, query.unit)
    bound = BoundQuery(project, catalog, query, timeframe, measures, tuple(items), flavor, unit)
    tables = [_check_series(bound, index, series, flavor) for index, series in enumerate(query.series)]
    for b_index, name in enumerate(query.breakdown):
        if name not in (EVENT_BREAKDOWN, SEGMENT_BREAKDOWN) and not is_category(project, query, name):
            _breakdown_property(bound, name, f"breakdown[{b_index}]")
    for index, (series, measure) in enumerate(zip(query.series, measures, strict=True)):
        where = bound.where(index)
        if measure.prop is not None:
            prop = _in_tables(catalog, tables[index], measure.prop, f"{where} > measure")
            if prop.kind not in NUMERIC and measure.definition.numeric:
                raise SpecError(
                    f"measure {series.measure!r} needs a numeric property, but {measure.prop!r} is {prop.kind}",
                    where=f"{where} > measure",
                )
        if measure.quantile is not None and not flavor.capabilities.exact_percentiles:
            raise UnsupportedError(
                f"{flavor.name} has no exact percentile, so measure {series.measure!r} cannot run there",
                where=f"{where} > measure",
                hint="use avg/min/max, or a warehouse with exact percentiles (DuckDB, PostgreSQL, Snowflake ...)",
            )
        _check_segment(bound, tables[index], flavor)
        for b_index, name in enumerate(query.breakdown):
            if name not in (EVENT_BREAKDOWN, SEGMENT_BREAKDOWN) and not is_category(project, query, name):
                _in_tables(catalog, tables[index], name, f"breakdown[{b_index}]")
    if query.analysis != "series":
        ANALYSIS_CHECKS[query.analysis](bound, flavor)
    return bound


def _check_analysis(bound: BoundQuery, flavor: SqlFlavor) -> None:
    """Stickiness and lifecycle: the event and filters resolve; a unit is followed as one, so a
    breakdown is by properties of the user (or the segment), never of single events."""
    spec = bound.query.analysis_spec
    assert isinstance(spec, Stickiness)  # and Lifecycle, its subclass
    location = bound.query.analysis
    tables = _tables(bound.catalog, spec.members, location)
    check_tables(bound.unit, tables, location)
    _check_conditions(bound.catalog, tables, spec.members, list(spec.where), location, flavor)
    _check_unit_breakdown(bound, location)
    _check_segment(bound, tables, flavor)


def _check_unit_breakdown(bound: BoundQuery, location: str, note: str = "") -> None:
    """A unit is followed as one: the breakdown is by properties of the user (or the segment)."""
    for b_index, name in enumerate(bound.query.breakdown):
        if name == SEGMENT_BREAKDOWN or bound.is_category(name):
            continue
        prop = None if name == EVENT_BREAKDOWN else _breakdown_property(bound, name, f"breakdown[{b_index}]")
        if prop is None or prop.source != USER_PROPERTY:
            raise SpecError(
                f"a {location} query breaks down by user properties (or segment); {name!r} is a property of "
                f"single events{note}",
                where=f"breakdown[{b_index}]",
            )


def _breakdown_property(bound: BoundQuery, name: str, where: str) -> ResolvedProperty:
    """A breakdown that is not a category: an unknown name's error also lists the categories."""
    try:
        return bound.catalog.resolve(name, where)
    except CatalogError as exc:
        categories = sorted({*bound.project.categories, *bound.query.categories})
        if not categories:
            raise
        hint = f"a breakdown is a property, event, segment or category; categories: {', '.join(categories)}"
        raise CatalogError(exc.message, where=exc.where, hint=hint) from None


def _check_retention(bound: BoundQuery, flavor: SqlFlavor) -> None:
    """Retention: the start and return events and their filters resolve; the breakdown is by
    properties of the unit (or the segment), categories, or properties of the start event."""
    spec = bound.query.retention
    assert spec is not None
    tables: list[EventTableInfo] = []
    for key, event in (("start", spec.start), ("return", spec.returning)):
        location = f"retention > {key}"
        own = _tables(bound.catalog, event.members, location)
        _check_conditions(bound.catalog, own, event.members, list(event.where), location, flavor)
        tables += [t for t in own if t not in tables]
    start_tables = _tables(bound.catalog, spec.start.members, "retention > start")
    for b_index, name in enumerate(bound.query.breakdown):
        if name == EVENT_BREAKDOWN:
            raise SpecError(
                "a retention query breaks down by user properties, the segment, categories or properties of the "
                "start event; not by the event's name (filter the start event instead)",
                where=f"breakdown[{b_index}]",
            )
        if name != SEGMENT_BREAKDOWN and not bound.is_category(name):
            prop = _breakdown_property(bound, name, f"breakdown[{b_index}]")
            if prop.source == EVENT_PROPERTY:  # the start event's value: a column of its tables
                _in_tables(bound.catalog, start_tables, name, f"breakdown[{b_index}]")
    _check_segment(bound, tables, flavor)


def _check_funnel(bound: BoundQuery, flavor: SqlFlavor) -> None:
    """Funnels: every step's and exclusion's events and filters resolve; exclusions name steps in
    order (ordered funnels only); held properties are event properties; a breakdown is a user
    property, the segment, or a property of step 1's events."""
    spec = bound.query.funnel
    assert spec is not None
    catalog, steps = bound.catalog, len(spec.steps)
    parts: list[tuple[str, FunnelStep | FunnelExclusion]] = [
        (f"funnel > steps[{i}]", s) for i, s in enumerate(spec.steps)
    ]
    parts += [(f"funnel > exclude[{i}]", x) for i, x in enumerate(spec.exclude)]
    for location, part in parts:
        tables = _tables(catalog, part.own_members, location)
        _check_conditions(catalog, tables, part.own_members, list(part.where), location, flavor)
    if spec.exclude and spec.order == "any":
        raise SpecError(
            "exclusions need an order of steps; `exclude` is refused with order: any", where="funnel > exclude"
        )
    for i, exclusion in enumerate(spec.exclude):
        after, before = spec.exclusion_steps(exclusion)
        for key, step in (("after_step", after), ("before_step", before)):
            if step > steps:
                raise SpecError(f"{key} {step} is past the last step ({steps})", where=f"funnel > exclude[{i}] > {key}")
        if after >= before:
            raise SpecError(
                f"after_step ({after}) must come before before_step ({before})", where=f"funnel > exclude[{i}]"
            )
    all_tables = _tables(catalog, spec.members, "funnel")
    for h, name in enumerate(spec.hold):
        prop = _in_tables(catalog, all_tables, name, f"funnel > hold[{h}]")
        if prop.source != EVENT_PROPERTY:
            raise SpecError(
                f"hold keeps an event property equal on every step; {name!r} is a user property (the same for "
                "every event of a unit already)",
                where=f"funnel > hold[{h}]",
            )
    first = _tables(catalog, spec.steps[0].members, "funnel > steps[0]")
    for b_index, name in enumerate(bound.query.breakdown):
        if name not in (EVENT_BREAKDOWN, SEGMENT_BREAKDOWN) and not bound.is_category(name):
            _in_tables(catalog, first, name, f"breakdown[{b_index}]")
    _check_segment(bound, all_tables, flavor)


def _measure(text: str, index: int, query: Query) -> Measure:
    try:
        return parse_measure(text, measure_definitions())
    except ValueError as exc:
        label = query.series[index].label or query.labels[index]
        raise SpecError(str(exc), where=f"series[{index}] (label {label}) > measure") from None


def _check_query(project: ProjectSpec, query: Query, measures: tuple[Measure, ...], flavor: SqlFlavor) -> None:
    for index, name in enumerate(query.breakdown):
        if name in RESERVED_COLUMNS:
            raise SpecError(
                f"a breakdown column cannot be named {name!r} (a result column has that name); "
                f"write event.{name} or user.{name}",
                where=f"breakdown[{index}]",
            )
    if project.timezone != "UTC" and not flavor.capabilities.timezones:
        raise UnsupportedError(
            f"{flavor.name} cannot convert times between time zones in SQL; this project's "
            f"timezone is {project.timezone}",
            where="project > timezone",
            hint="use timezone: UTC with this warehouse, or a warehouse with time-zone support",
        )
    if any(m.definition.family == "frequency" for m in measures) and (
        len(query.series) > 1 or query.formulas or query.compare
    ):
        raise SpecError(
            "the frequency measure gives its own result shape: use it alone (one series, no formulas, no compare)",
            where="series",
        )
    for index, (series, measure) in enumerate(zip(query.series, measures, strict=True)):
        if series.occurrence and measure.is_rolling:
            raise SpecError(
                "first/last occurrence cannot be combined with a rolling active-users measure",
                where=f"series[{index}] > occurrence",
            )


def _tables(catalog: Catalog, members: list[EventFilter], location: str) -> list[EventTableInfo]:
    """The event tables holding ``members``' events (an unknown event is an error)."""
    found: list[int] = []
    for member in members:
        catalog.check_event(member.event, f"{location} > event")
        found += [t for t in catalog.tables_with_event(member.event) if t not in found]
    return [catalog.event_tables[t] for t in found]


def _in_tables(catalog: Catalog, tables: list[EventTableInfo], name: str, where: str) -> ResolvedProperty:
    """Resolve ``name``; an event property must be a column of one of ``tables``."""
    prop = catalog.resolve(name, where)
    if prop.source == EVENT_PROPERTY and not any(prop.column in t.columns for t in tables):
        raise SpecError(f"property {name!r} is not a column of {', '.join(str(t.ref) for t in tables)}", where=where)
    return prop


def _check_conditions(
    catalog: Catalog,
    tables: list[EventTableInfo],
    members: list[EventFilter],
    where: list[Condition],
    location: str,
    flavor: SqlFlavor,
) -> None:
    """Every condition's property resolves (in these tables) and its values fit its type."""
    located = [
        (cond, f"{location} > event > any_of[{m}] > where[{c}]")
        for m, member in enumerate(members)
        for c, cond in enumerate(member.where)
    ]
    located += [(cond, f"{location} > where[{c}]") for c, cond in enumerate(where)]
    for cond, at in located:
        prop = _in_tables(catalog, tables, cond.property, f"{at} > property")
        build_condition(flavor, exp.column("_"), prop, cond, at)


def _check_series(bound: BoundQuery, index: int, series: Series, flavor: SqlFlavor) -> list[EventTableInfo]:
    location = bound.where(index)
    tables = _tables(bound.catalog, series.members, location)
    check_tables(bound.unit, tables, location)
    _check_conditions(bound.catalog, tables, series.members, list(series.where), location, flavor)
    return tables


def _check_segment(bound: BoundQuery, tables: list[EventTableInfo], flavor: SqlFlavor) -> None:
    segment = bound.query.segment
    if segment is None:
        return
    for key in ("did", "did_not"):
        for index, spec in enumerate(getattr(segment, key)):
            location = f"segment > {key}[{index}]"
            own = _tables(bound.catalog, spec.members, location)
            check_tables(bound.unit, own, location)
            _check_conditions(bound.catalog, own, spec.members, list(spec.where), location, flavor)
    if segment.user_where and not bound.unit.is_user:
        raise SpecError(
            f"segment user_where picks users, but this query counts {bound.unit.name} units; a {bound.unit.name} "
            "is not one user",
            where="segment > user_where[0]",
            hint="use unit: user, or filter the events themselves (a `where` on the series, user properties too)",
        )
    for c_index, cond in enumerate(segment.user_where):
        where = f"segment > user_where[{c_index}]"
        prop = bound.catalog.resolve(cond.property, f"{where} > property")
        if prop.source != USER_PROPERTY:
            raise SpecError(
                f"segment user_where takes user properties; {cond.property!r} is an event property", where=where
            )
        build_condition(flavor, exp.column("_"), prop, cond, where)


# The checks of each analysis other than a segmentation (``Query.analysis``), after the common ones.
ANALYSIS_CHECKS: dict[str, Callable[[BoundQuery, SqlFlavor], None]] = {
    "stickiness": _check_analysis,
    "lifecycle": _check_analysis,
    "funnel": _check_funnel,
    "retention": _check_retention,
}
