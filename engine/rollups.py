"""Rollups: pre-aggregated tables the planner answers from when that is exact (docs/rollups.md).

A rollup is declared in the project file and written by ``segwise rollup build NAME``::

    rollups:
      - name: daily_by_country
        table: rollups.daily_by_country     # where the build writes (the only place segwise writes)
        grain: day                          # hour | day, in the project's time zone
        dimensions: [event, country]        # `event` (the event name) and event-table columns
        measures: [events, sum:price, count:price, min:price, max:price]
        users: true                         # keep the user id: exact unique users, rolling users

Its table holds one row per (``bucket``, dimension values[, user]) with the measures as columns
``events``, ``sum_price``, ``count_price``, ``min_price``, ``max_price``. A state table
``segwise_rollup_state`` beside it records what the build covered (``[covered_from, covered_to)``
in local time) and the definition it was built with.

For each series the planner asks :func:`refusal` whether the rollup answers it *exactly*:
combinable measures only, a query grain that is a multiple of the rollup's, every filter and
breakdown on a dimension (user properties only with ``users: true``), the same time zone and
definition. The range need not be aligned or covered: the whole buckets the build covers come
from the rollup, the edges (a partial first or last day, days after the last build) from raw
events pre-aggregated to the same shape, in one ``UNION ALL`` (:class:`RollupSource`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlglot import exp

from segwise.adapters.base import TableRef

from .catalog import USER_PROPERTY
from .conditions import NUMERIC
from .errors import CatalogError, SegwiseError
from .partitions import floor_to
from .project import Rollup
from .query import ANY_EVENT

if TYPE_CHECKING:
    from .catalog import Catalog, EventTableInfo
    from .measures import Measure
    from .project import ProjectSpec
    from .query import Query, Series
    from .timeframe import Timeframe

STATE_TABLE = "segwise_rollup_state"
BUCKET = "bucket"
EVENT_DIMENSION = "event"
_GRAIN_HOURS = {"hour": 1, "day": 24}


def measure_column(measure: str) -> str:
    """``events`` -> ``events``; ``sum:price`` -> ``sum_price``."""
    kind, _, prop = measure.partition(":")
    return f"{kind}_{prop}" if prop else kind


def state_ref(table: TableRef) -> TableRef:
    """The state table lives in the rollup table's schema."""
    return TableRef((*table.parts[:-1], STATE_TABLE))


@dataclass(frozen=True)
class RollupState:
    covered_from: datetime  # local, inclusive
    covered_to: datetime  # local, exclusive
    definition: str
    built_at: datetime | None = None
    rows: int | None = None


@dataclass
class RollupInfo:
    """A declared rollup resolved against the catalog: its columns, its build state, or why not usable."""

    spec: Rollup
    ref: TableRef
    source_index: int
    source: EventTableInfo
    definition: str
    dimensions: dict[str, str]  # dimension name -> column of the rollup (and of the source)
    user_column: str | None
    state: RollupState | None = None
    problem: str | None = None

    def has(self, measure: str) -> bool:
        return measure in self.spec.measures


def rollups(project: ProjectSpec, catalog: Catalog) -> list[RollupInfo]:
    """The project's rollups with their build state (read from the warehouse once, then cached
    on the catalog)."""
    if catalog.rollup_infos is None:
        infos = [resolve(project, catalog, rollup, index) for index, rollup in enumerate(project.rollups)]
        for info in infos:
            load_state(info, catalog)
        catalog.rollup_infos = infos
    return catalog.rollup_infos


def definition_text(project: ProjectSpec, rollup: Rollup, source: EventTableInfo) -> str:
    """What a build depends on, as canonical JSON (stored with the build, compared at plan time)."""
    return json.dumps(
        {
            "version": 1,
            "source": str(source.ref),
            "grain": rollup.grain,
            "timezone": project.timezone,
            "dimensions": rollup.dimensions,
            "measures": rollup.measures,
            "users": rollup.users,
        },
        sort_keys=True,
    )


def resolve(project: ProjectSpec, catalog: Catalog, rollup: Rollup, index: int) -> RollupInfo:
    """Check the declaration against the source table's columns (errors name the rollup)."""
    where = f"{project.origin} > rollups[{index}] ({rollup.name})"
    tables = [t.table for t in project.event_tables]
    source_index = tables.index(rollup.source) if rollup.source is not None else 0
    source = catalog.event_tables[source_index]
    dims: dict[str, str] = {}
    for name in rollup.dimensions:
        if name == EVENT_DIMENSION:
            if source.spec.event_name is None:
                continue  # every row of the source is one event: nothing to keep
            dims[name] = source.spec.event_name
        elif name in source.properties:
            dims[name] = name
        else:
            raise CatalogError(
                f"dimension {name!r} is not a column of {source.ref} (its properties: "
                f"{', '.join(sorted(source.properties))}; `event` is the event name)",
                where=f"{where} > dimensions",
            )
    for measure in rollup.measures:
        _kind, _, prop = measure.partition(":")
        if prop and (prop not in source.properties or source.properties[prop].kind not in NUMERIC):
            raise CatalogError(
                f"measure {measure!r} needs a numeric column of {source.ref}; {prop!r} is "
                + (source.properties[prop].kind if prop in source.properties else "not a column"),
                where=f"{where} > measures",
            )
    user_column = source.spec.user_id if rollup.users else None
    names = [BUCKET, *dims.values(), *([user_column] if user_column else []), *map(measure_column, rollup.measures)]
    clash = {n for n in names if names.count(n) > 1}
    if clash:
        raise CatalogError(f"rollup columns would collide: {sorted(clash)}", where=where)
    info = RollupInfo(
        spec=rollup,
        ref=TableRef.parse(rollup.table),
        source_index=source_index,
        source=source,
        definition=definition_text(project, rollup, source),
        dimensions=dims,
        user_column=user_column,
    )
    return info


def load_state(info: RollupInfo, catalog: Catalog) -> None:
    """Read the rollup's build state from the warehouse (a missing table = not built)."""
    from .observe import execute_observed

    adapter = catalog.adapter
    assert adapter is not None
    hint = f"run `segwise rollup build {info.spec.name}`"
    try:
        adapter.columns(info.ref)  # both tables must exist (CatalogError otherwise)
        adapter.columns(state_ref(info.ref))
    except CatalogError:
        info.problem = f"it has not been built ({hint})"
        return
    select = (
        exp.select("definition", "covered_from", "covered_to", "built_at", "row_count")
        .from_(state_ref(info.ref).expression())
        .where(exp.EQ(this=exp.column("name"), expression=exp.Literal.string(info.spec.name)))
    )
    try:
        table = execute_observed(
            adapter, adapter.flavor.render(select), expression=select, tables=[state_ref(info.ref)]
        ).to_pylist()
    except SegwiseError as exc:
        info.problem = f"its build state could not be read ({exc.message})"
        return
    if not table:
        info.problem = f"it has not been built ({hint})"
        return
    row = table[0]
    info.state = RollupState(
        _naive(row["covered_from"]), _naive(row["covered_to"]), row["definition"], row["built_at"], row["row_count"]
    )
    if row["definition"] != info.definition:
        info.problem = f"its definition (or the project's time zone) changed since it was built ({hint} --full)"


def _naive(value: datetime) -> datetime:
    return value.replace(tzinfo=None) if value.tzinfo is not None else value


# -- matching ------------------------------------------------------------------------------------------


def ceil_to(value: datetime, grain: str) -> datetime:
    floor = floor_to(value, grain)
    return floor if floor == value else floor + timedelta(hours=_GRAIN_HOURS[grain])


def interior(info: RollupInfo, start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
    """The whole rollup buckets of local ``[start, end)`` the build covers, or None."""
    assert info.state is not None
    lo = max(ceil_to(start, info.spec.grain), info.state.covered_from)
    hi = min(floor_to(end, info.spec.grain), info.state.covered_to)
    return (lo, hi) if lo < hi else None


def measure_needs(measure: Measure, info: RollupInfo) -> str | None:
    """Why the rollup cannot compute ``measure`` exactly, or None."""
    definition = measure.definition
    if definition.rollup is None:
        return f"{measure} {definition.no_rollup}"
    if definition.needs_users and not info.spec.users:
        return f"{measure} needs user ids (declare the rollup with users: true)"
    wanted = [k for k in definition.rollup_inputs if k != "events"]
    missing = [f"{k}:{measure.prop}" for k in wanted if not info.has(f"{k}:{measure.prop}")]
    if missing == [str(measure)]:
        return f"the rollup does not keep {measure}"
    if missing:
        return f"{measure} needs {' and '.join(missing)}, which the rollup does not keep"
    return None


def refusal(
    catalog: Catalog,
    info: RollupInfo,
    series: Series,
    measure: Measure,
    tf: Timeframe,
    query: Query,
    categories: frozenset[str] = frozenset(),
) -> str | None:
    """Why ``info`` cannot answer this series exactly (one sentence), or None when it can."""
    if info.problem is not None:
        return info.problem
    if tf.grain == "hour" and info.spec.grain == "day":
        return "the query's hour buckets are finer than the rollup's day grain"
    if series.occurrence:
        return "first/last occurrence needs each user's event history"
    needs = measure_needs(measure, info)
    if needs:
        return needs
    for member in series.members:
        tables = catalog.tables_with_event(member.event)
        others = [str(catalog.event_tables[t].ref) for t in tables if t != info.source_index]
        if others:
            return f"event {member.event!r} is also in {', '.join(others)}, which the rollup does not read"
        if (
            member.event != ANY_EVENT
            and info.source.spec.event_name is not None
            and EVENT_DIMENSION not in info.dimensions
        ):
            return "the series picks events by name, but `event` is not a dimension"
    properties = [c.property for m in series.members for c in m.where] + [c.property for c in series.where]
    properties += [b for b in query.breakdown if b not in ("event", "segment") and b not in categories]
    if any(b in categories for b in query.breakdown) and not info.spec.users:
        return "a category groups units, and the rollup has no user ids (users: true)"
    if query.segment is not None:
        if not info.spec.users:
            return "a segment selects users, and the rollup has no user ids (users: true)"
        properties += [c.property for c in query.segment.user_where]
    if (
        "event" in query.breakdown
        and info.source.spec.event_name is not None
        and EVENT_DIMENSION not in info.dimensions
    ):
        return "the breakdown by event needs `event` as a dimension"
    for name in properties:
        prop = catalog.resolve(name, "rollup")
        if prop.source == USER_PROPERTY:
            if not info.spec.users:
                return f"user property {name!r} needs user ids (users: true)"
        elif prop.column not in info.dimensions.values() or prop.column == info.source.spec.event_name:
            return f"property {name!r} is not a dimension of the rollup"
    start = tf.start
    if measure.is_rolling:
        start = (tf.start - timedelta(days=(measure.window_days or 1) - 1)).replace(hour=0, minute=0, second=0)
    if interior(info, start, tf.end) is None:
        assert info.state is not None
        return (
            f"it covers {info.state.covered_from:%Y-%m-%d %H:%M} to {info.state.covered_to:%Y-%m-%d %H:%M}, "
            "no whole bucket of this range"
        )
    return None
