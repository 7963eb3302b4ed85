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

from .catalog import EVENT_PROPERTY, USER_PROPERTY, ResolvedProperty
from .errors import CatalogError, SegwiseError
from .partitions import floor_to
from .query import ANY_EVENT
from .source import NUMERIC, RowSource, TimeBounds, and_all, group_key, ts_text
from .timeframe import to_local, to_utc

if TYPE_CHECKING:
    from .catalog import Catalog, EventTableInfo
    from .compile import QueryCompiler
    from .measures import Measure
    from .plan import SeriesNode
    from .project import Project, Rollup
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


def definition_text(project: Project, rollup: Rollup, source: EventTableInfo) -> str:
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


def resolve(project: Project, catalog: Catalog, rollup: Rollup, index: int) -> RollupInfo:
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
            adapter, adapter.render(select), expression=select, tables=[state_ref(info.ref)]
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
    kind = measure.kind
    if measure.custom is not None:
        return f"plugin measure {measure.custom.name!r} is not declared in rollups"
    if kind == "percentile":
        return f"{measure} needs every value (medians and percentiles do not combine)"
    needs_users = kind in ("unique_users", "events_per_user", "active_users", "frequency") or measure.is_per_user
    if needs_users and not info.spec.users:
        return f"{measure} needs user ids (declare the rollup with users: true)"
    wanted = {
        "sum": ["sum"],
        "avg": ["sum", "count"],
        "min": ["min"],
        "max": ["max"],
        "user_sum": ["sum"],
    }.get(kind, [])
    missing = [f"{k}:{measure.prop}" for k in wanted if not info.has(f"{k}:{measure.prop}")]
    if missing == [str(measure)]:
        return f"the rollup does not keep {measure}"
    if missing:
        return f"{measure} needs {' and '.join(missing)}, which the rollup does not keep"
    return None


def refusal(
    compiler: QueryCompiler, info: RollupInfo, series: Series, measure: Measure, tf: Timeframe, query: Query
) -> str | None:
    """Why ``info`` cannot answer this series exactly (one sentence), or None when it can."""
    if info.problem is not None:
        return info.problem
    catalog = compiler.catalog
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
    properties += [b for b in query.breakdown if b not in ("event", "segment")]
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


@dataclass(frozen=True)
class RollupColumns:
    """The rollup-shaped measure inputs of a series (expressions over some row alias)."""

    events: exp.Expr
    sum: exp.Expr | None = None
    count: exp.Expr | None = None
    min: exp.Expr | None = None
    max: exp.Expr | None = None
    users_unique: bool = False  # each user is on at most one row per output group (count without DISTINCT)

    def items(self) -> list[tuple[str, exp.Expr]]:
        return [(k, v) for k, v in vars(self).items() if isinstance(v, exp.Expr)]

    def materialized(self, table: str, suffix: str = "") -> RollupColumns:
        """The same columns as a CTE ``table`` holds them (``_r<kind><suffix>``; the compiler
        materializes only those its measure reads)."""
        columns = {k: exp.column(f"_r{k}{suffix}", table=table) for k, _ in self.items()}
        return RollupColumns(
            events=columns["events"],
            sum=columns.get("sum"),
            count=columns.get("count"),
            min=columns.get("min"),
            max=columns.get("max"),
            users_unique=self.users_unique,
        )


# -- row source ----------------------------------------------------------------------------------------


class RollupSource(RowSource):
    """A series' rows in the rollup's shape: whole covered buckets from the rollup table, the
    rest of the range from raw events pre-aggregated the same way (``UNION ALL``, alias ``e``)."""

    def __init__(self, compiler: QueryCompiler, info: RollupInfo, series: Series, tf: Timeframe, location: str):
        super().__init__(compiler, series.members, list(series.where), tf, location)
        self.info = info
        self.measure_prop: str | None = None

    def _col(self, name: str) -> exp.Column:
        return exp.column(name, table="e", quoted=True)

    def user(self) -> exp.Expr:
        if self.info.user_column is None:  # never counted: refusal() keeps user measures away
            return exp.cast(exp.Null(), exp.DataType.Type.VARCHAR)
        return self._col(self.info.user_column)

    def event_name(self) -> exp.Expr:
        spec = self.info.source.spec
        if spec.event_name is None:
            return exp.Literal.string(spec.event_name_value or "")
        return self._col(spec.event_name)

    def local_time(self) -> exp.Expr:
        return self._col(BUCKET)

    def day_time(self) -> exp.Expr:
        """Day buckets are the rows' own buckets (a day rollup or a day pre-aggregation)."""
        if self.info.spec.grain == "day":
            return self._col(BUCKET)
        return self.c.flavor.truncate("day", self._col(BUCKET))

    def prop(self, prop: ResolvedProperty) -> exp.Expr:
        if prop.source == USER_PROPERTY:
            return super().prop(prop)
        return self._col(prop.column)

    def columns(self, table: str | None = None) -> RollupColumns:
        """The measure's inputs: ``events`` and the declared aggregates of the measure's property."""
        prop = self.measure_prop

        def col(kind: str) -> exp.Expr | None:
            if prop is None or not self.info.has(f"{kind}:{prop}"):
                return None
            name = measure_column(f"{kind}:{prop}")
            return exp.column(name, table=table) if table else self._col(name)

        events = exp.column("events", table=table) if table else self._col("events")
        return RollupColumns(events, col("sum"), col("count"), col("min"), col("max"))

    def _branch(self, start: datetime, end: datetime, keep: set[str]) -> exp.Select:
        """The rollup table's whole buckets in local ``[start, end)``, with the pushable filters."""
        flavor = self.c.flavor
        names = [BUCKET, *self.info.dimensions.values()]
        names += [self.info.user_column] if self.info.user_column else []
        names += [measure_column(m) for m in self.info.spec.measures]
        names = [n for n in names if n in keep]
        filters: list[exp.Expr] = [
            exp.GTE(this=self._col(BUCKET), expression=flavor.timestamp_literal(ts_text(start), False)),
            exp.LT(this=self._col(BUCKET), expression=flavor.timestamp_literal(ts_text(end), False)),
        ]
        if self._members_pushable():
            member = self._member_filter(None, "e")
            if member is not None:
                filters.append(member)
        for c_index, cond in enumerate(self.where):
            if not self._uses_user_props([cond]):
                filters.append(self.condition(cond, f"{self.location} > where[{c_index}]", None, "e"))
        select = exp.select(*[self._col(n) for n in dict.fromkeys(names)], copy=False)
        select = select.from_(self.info.ref.expression(alias="e"), copy=False)
        return select.where(and_all(filters), copy=False)

    def _scan(self, outputs: list[exp.Expr], bounds: TimeBounds, distinct: bool) -> exp.Select:
        tz = self.c.project.tz
        assert bounds.start_utc is not None and bounds.end_utc is not None
        start = to_local(bounds.start_utc, tz)
        end = to_local(bounds.end_utc, tz)
        whole = interior(self.info, start, end)
        assert whole is not None, "refusal() checked the range"
        outer = self._outer_filters()
        # Projection pushdown: only the columns the outer query reads (plus the bucket).
        keep = {BUCKET} | {c.name for node in [*outputs, *outer] for c in node.find_all(exp.Column) if c.table == "e"}
        if self.user_joins and self.info.user_column is not None:
            keep.add(self.info.user_column)  # the user-table join reads it
        parts: list[exp.Expr] = [self._branch(*whole, keep)]
        for lo, hi in ((bounds.start_utc, to_utc(whole[0], tz)), (to_utc(whole[1], tz), bounds.end_utc)):
            if lo < hi:
                raw = RowSource(self.c, self.members, self.where, self.tf, self.location)
                raw.bounds = TimeBounds(lo, hi)
                parts.append(rollup_rows(self.c, self.info, raw, keep))
        union = parts[0]
        for part in parts[1:]:
            union = exp.union(union, part, distinct=False, copy=False)
        return self._over(union, outputs, outer, distinct)

    def _over(self, rows: exp.Expr, outputs: list[exp.Expr], outer: list[exp.Expr], distinct: bool) -> exp.Select:
        """``SELECT outputs FROM (rows) AS e`` with the user joins and the outer filters."""
        derived = exp.Subquery(this=rows, alias=exp.TableAlias(this=exp.to_identifier("e", quoted=True)))
        select = exp.select(*outputs, copy=False)
        if distinct:
            select = select.distinct(copy=False)
        select = self._joins(select.from_(derived, copy=False))
        condition = and_all(outer)
        return select.where(condition, copy=False) if condition is not None else select


def rollup_rows(
    compiler: QueryCompiler,
    info: RollupInfo,
    raw: RowSource,
    keep: set[str] | None = None,
    bucket: exp.Expr | None = None,
    no_bucket: bool = False,
    measures: list[tuple[str, exp.Expr]] | None = None,
) -> exp.Select:
    """Raw events of ``raw`` pre-aggregated to the rollup's shape (the build's SELECT, and edges);
    ``keep``: only these columns (the bucket always), in the rollup's column order; ``bucket``:
    another bucket expression than the rollup grain's; ``no_bucket``: not split by bucket, and no
    bucket column (a total: nothing reads it); ``measures``: (column, aggregate) instead of the
    rollup's measures."""
    flavor = compiler.flavor
    if bucket is None and not no_bucket:
        bucket = flavor.truncate(info.spec.grain, raw.local_time())
    keys: list[exp.Expr] = [] if bucket is None or no_bucket else [bucket]
    outputs: list[exp.Expr] = [k.copy().as_(BUCKET) for k in keys]
    value: exp.Expr
    for name, column in info.dimensions.items():
        if keep is not None and column not in keep:
            continue
        if name == EVENT_DIMENSION:
            value = raw.event_name()
        else:
            value = raw.prop(ResolvedProperty(column, EVENT_PROPERTY, column, info.source.columns[column].kind))
        keys.append(value)
        outputs.append(value.copy().as_(column))
    if info.user_column is not None and (keep is None or info.user_column in keep):
        keys.append(raw.user())
        outputs.append(raw.user().as_(info.user_column))
    for name, aggregate in measures or []:
        if keep is None or name in keep:
            outputs.append(aggregate.as_(name))
    for measure in info.spec.measures if measures is None else []:
        kind, _, prop = measure.partition(":")
        if keep is not None and measure_column(measure) not in keep:
            continue
        if kind == "events":
            value = flavor.as_bigint(exp.Count(this=exp.Star()))
        else:
            read = raw.prop(ResolvedProperty(prop, EVENT_PROPERTY, prop, info.source.columns[prop].kind))
            number = exp.cast(read, exp.DataType.Type.DOUBLE)
            value = {
                "sum": lambda v: flavor.as_double(exp.Sum(this=v)),
                "count": lambda v: flavor.as_bigint(exp.Count(this=v)),
                "min": lambda v: flavor.as_double(exp.Min(this=v)),
                "max": lambda v: flavor.as_double(exp.Max(this=v)),
            }[kind](number)
        outputs.append(value.as_(measure_column(measure)))
    if len(outputs) == len(keys):
        # keys only (e.g. distinct users per bucket): DISTINCT, which engines plan as a cheaper
        # hash set than a GROUP BY over the same expressions
        return raw.select(outputs, distinct=True)
    return raw.select(outputs).group_by(*[group_key(k) for k in keys], copy=False)


class PreAggregatedSource(RollupSource):
    """Raw events reduced per (bucket, event dimensions, user) *before* the user table is joined
    (the planner's ``preaggregate`` rule): the join and the final aggregate see one row per user
    and bucket instead of one per event. Same shape as a rollup, so the same aggregates apply."""

    def __init__(
        self,
        compiler: QueryCompiler,
        info: RollupInfo,
        series: Series,
        tf: Timeframe,
        location: str,
        rolling: bool = False,
    ):
        super().__init__(compiler, info, series, tf, location)
        self.rolling = rolling  # rolling users need day buckets, whatever the query's grain

    def _scan(self, outputs: list[exp.Expr], bounds: TimeBounds, distinct: bool) -> exp.Select:
        outer = self._outer_filters()
        keep = {BUCKET} | {c.name for node in [*outputs, *outer] for c in node.find_all(exp.Column) if c.table == "e"}
        if self.info.user_column is not None:
            keep.add(self.info.user_column)
        event_where = [c for c in self.where if not self._uses_user_props([c])]
        raw = RowSource(self.c, self.members, event_where, self.tf, self.location)
        raw.bounds, raw.prune, raw.partition_time = bounds, self.prune, self.partition_time
        grain = self.c.tf.grain
        total = grain == "total" and not self.rolling
        bucket: exp.Expr | None = None
        if self.rolling or grain == "day":
            bucket = raw.day_time()
        elif not total:
            bucket = self.c.source_bucket(raw)
        rows = rollup_rows(self.c, self.info, raw, keep, bucket=bucket, no_bucket=total, measures=self._measures(raw))
        return self._over(rows, outputs, outer, distinct)

    def _measures(self, raw: RowSource) -> list[tuple[str, exp.Expr]] | None:
        """(column, aggregate) to reduce to, or None: the description's measures."""
        return None


class SharedReducedSource(PreAggregatedSource):
    """Top-N series over different events of one table, reduced in one scan per (bucket, event
    dimensions, user) with each series' partial aggregates under its events' condition (rule
    ``sharing``): ``c<i>`` its events, ``s<i>``/``mn<i>``/``mx<i>`` sum, minimum and maximum of its
    measured property. A user is on one row per (bucket, groups), whatever the series' events."""

    def __init__(
        self,
        compiler: QueryCompiler,
        info: RollupInfo,
        series: Series,
        tf: Timeframe,
        location: str,
        group: list[tuple[int, list[str], str | None]],
    ):
        super().__init__(compiler, info, series, tf, location)
        self.group = group  # (position, its events, its measured property)

    def series_columns(self, position: int) -> RollupColumns:
        _position, _events, prop = next(g for g in self.group if g[0] == position)
        measured = {"sum": f"s{position}", "min": f"mn{position}", "max": f"mx{position}"} if prop else {}
        columns = {kind: self._col(name) for kind, name in measured.items()}
        return RollupColumns(
            self._col(f"c{position}"), columns.get("sum"), None, columns.get("min"), columns.get("max")
        )

    def _measures(self, raw: RowSource) -> list[tuple[str, exp.Expr]]:
        flavor = self.c.flavor
        out: list[tuple[str, exp.Expr]] = []
        for position, events, prop in self.group:
            condition = exp.In(this=raw.event_name(), expressions=[exp.Literal.string(e) for e in events])

            def when(value: exp.Expr, condition: exp.Expr = condition) -> exp.Case:
                return exp.Case(ifs=[exp.If(this=condition.copy(), true=value)])

            out.append((f"c{position}", flavor.as_bigint(exp.Count(this=when(exp.Literal.number(1))))))
            if prop is not None:
                column = self.info.source.columns[prop]
                value = exp.cast(
                    raw.prop(ResolvedProperty(prop, EVENT_PROPERTY, prop, column.kind)), exp.DataType.Type.DOUBLE
                )
                out.append((f"s{position}", flavor.as_double(exp.Sum(this=when(value)))))
                out.append((f"mn{position}", flavor.as_double(exp.Min(this=when(value.copy())))))
                out.append((f"mx{position}", flavor.as_double(exp.Max(this=when(value.copy())))))
        return out


def preaggregation(
    node: SeriesNode, catalog: Catalog, breakdown: list[str], group: list[SeriesNode] | None = None
) -> RollupInfo:
    """A rollup-like description (never stored) of the per-user pre-aggregation of a series, or of
    the series of a shared top-N scan (``group``: the measures of all of them)."""
    from segwise.project import Rollup

    info = node.scan.tables[0]
    nodes = group or [node]
    names = [c.property for n in nodes for m in n.series.members for c in m.where]
    names += [c.property for n in nodes for c in n.series.where]
    names += [b for b in breakdown if b not in ("event", "segment")]
    dims: dict[str, str] = {}
    if info.spec.event_name is not None:
        dims[EVENT_DIMENSION] = info.spec.event_name
    for name in names:
        prop = catalog.resolve(name, "plan")
        if prop.source == EVENT_PROPERTY and prop.column != info.spec.event_name:
            dims[prop.column] = prop.column
    measures = ["events"]
    for measured in dict.fromkeys(n.measure.prop for n in nodes if n.measure.prop):
        measures += [f"{k}:{measured}" for k in ("sum", "count", "min", "max")]
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
