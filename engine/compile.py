"""Compile a validated query into one sqlglot expression (no SQL strings from user input).

The statement returns long-form rows ``series, bucket, _g0.._gN, [_f,] value`` for every
non-empty (series, breakdown values, bucket); post-processing in Arrow fills empty buckets,
aligns previous-period buckets and computes formulas.

Shape of the SQL, per series (``UNION ALL`` across series; row sources in ``source.py``):

* plain:    ``SELECT label, bucket, groups, AGG FROM events [JOIN users] WHERE ... GROUP BY``
* top-N:    the matching rows become a CTE ``s<i>``; a CTE ``_rank`` ranks the first series'
            groups over the whole range; groups beyond N map to ``'Other'`` *before*
            aggregating, so a user in two "other" groups counts once.
* per-user: aggregate per (bucket, groups, user) first, then across users.
* rolling:  distinct (user, local day, groups) first (``d<i>``), then each bucket counts the
            users of the N days ending on its last day, joined against a small bucket spine.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlglot import exp

from .catalog import USER_PROPERTY, Catalog
from .errors import SpecError, UnsupportedError
from .measures import Measure, MeasureContext, parse_measure
from .plan import LogicalPlan, SeriesNode
from .planner import plan_query
from .query import Condition, Query, Series
from .registry import plan_rules
from .rollups import PreAggregatedSource, RollupColumns, RollupSource, SharedReducedSource, preaggregation
from .rules.sharing import same_filters
from .source import NUMERIC, RowSource, TimeBounds, and_all, build_condition, group_key, table_ref, ts_text
from .timeframe import Timeframe, previous_timeframe, to_utc, truncate

if TYPE_CHECKING:
    from segwise.adapters.base import SqlFlavor

    from .project import Project

OTHER = "Other"
# The rollup-shaped columns each measure reads (unique users read none: only the user id).
ROLLUP_INPUTS = {
    "unique_users": (),
    "active_users": (),
    "sum": ("sum",),
    "avg": ("sum", "count"),
    "min": ("min",),
    "max": ("max",),
    "user_sum": ("sum",),
}
EVENT_BREAKDOWN = "event"
SEGMENT_BREAKDOWN = "segment"
PREVIOUS_SUFFIX = " (previous)"


@dataclass(frozen=True)
class OutputSeries:
    """One series of the answer: its label, measure and time frame (previous period or not)."""

    label: str
    measure: Measure
    timeframe: Timeframe
    previous: bool = False


@dataclass(frozen=True)
class CompiledQuery:
    """Everything execution and post-processing need, plus the SQL text."""

    sql: str
    expression: exp.Expr
    query: Query
    timeframe: Timeframe
    labels: tuple[str, ...]
    measures: tuple[Measure, ...]
    breakdown: tuple[str, ...]
    dialect: str
    outputs: tuple[OutputSeries, ...] = ()
    decisions: tuple[str, ...] = ()  # the planner's choices and refusals, one sentence each
    plan: LogicalPlan | None = None  # the rewritten logical plan (segwise explain prints it)

    @property
    def value_is_integer(self) -> bool:
        return all(m.is_count for m in self.measures) and not self.query.formulas

    def series_of(self, output: OutputSeries) -> Series:
        """The query series an output comes from (a previous-period output: its current twin)."""
        label = output.label.removesuffix(PREVIOUS_SUFFIX) if output.previous else output.label
        return next(s for s in self.query.series if s.label == label)

    @property
    def frequency(self) -> bool:
        return any(m.kind == "frequency" for m in self.measures)


# Bucket grains a generated series can step through: (step, interval unit).
SERIES_STEPS: dict[str, tuple[int, str]] = {
    "day": (1, "DAY"),
    "week": (7, "DAY"),
    "month": (1, "MONTH"),
    "quarter": (3, "MONTH"),
    "year": (1, "YEAR"),
}


@dataclass
class SeriesPlan:
    """A series being compiled: its rows, groups, measure input and time frame."""

    index: int
    label: str
    measure: Measure
    source: RowSource
    tf: Timeframe
    groups: list[exp.Expr] = field(default_factory=list)
    value: exp.Expr | None = None
    materialized: str | None = None
    rollup: RollupColumns | None = None  # the rows are rollup-shaped: measures read these columns
    partials: str | None = None  # top-N: the CTE of the measure per (bucket, group), when it combines
    suffix: str = ""  # shared reduced rows (rule sharing): this series' columns are _r<kind><suffix>


class QueryCompiler:
    """Builds the statement for one query against one catalog, in one flavor."""

    def __init__(
        self,
        project: Project,
        catalog: Catalog,
        flavor: SqlFlavor,
        query: Query,
        timeframe: Timeframe,
        use_rollups: bool = True,
        share_scans: str = "auto",
        disabled_rules: frozenset[str] = frozenset(),
        preaggregate: str = "auto",
    ) -> None:
        self.project = project
        self.catalog = catalog
        self.flavor = flavor
        self.query = query
        self.tf = timeframe
        self.ctes: list[tuple[str, exp.Expr]] = []
        self.limit: int | None = None
        self._segment_condition: exp.Expr | None = None
        self.use_rollups = use_rollups
        self.share_scans = share_scans
        self.preaggregate = preaggregate
        self.disabled_rules = disabled_rules
        self.logical: LogicalPlan = LogicalPlan([])
        self._materialized: dict[exp.Expr, str] = {}  # rows' expression -> the CTE holding them

    # -- entry point --------------------------------------------------------------------------------

    def compile(self) -> CompiledQuery:
        measures = tuple(parse_measure(s.measure) for s in self.query.series)
        self._check_query(measures)
        items = [
            (s.label or self.query.labels[i], s, m, self.tf, False, i)
            for i, (s, m) in enumerate(zip(self.query.series, measures, strict=True))
        ]
        if self.query.compare == "previous_period":
            previous = previous_timeframe(self.query, self.tf, self.project.week_start_index, self.project.tz)
            items += [(f"{label}{PREVIOUS_SUFFIX}", s, m, previous, True, i) for label, s, m, _tf, _p, i in items]
        # Validate every series against the catalog first, so errors name the query, not the plan.
        raw_sources = [self._raw_source(i, s, tf) for _label, s, _m, tf, _p, i in items]
        for b_index, name in enumerate(self.query.breakdown):
            if name not in (EVENT_BREAKDOWN, SEGMENT_BREAKDOWN):
                self.catalog.resolve(name, f"breakdown[{b_index}]")
        self.logical = plan_query(
            self, items, self.use_rollups, self.share_scans, self.disabled_rules, self.preaggregate
        )
        plans = []
        for position, node in enumerate(self.logical.nodes):
            plans.append(self._plan(node, position, raw_sources[position]))
        outputs = [
            OutputSeries(p.label, p.measure, p.tf, previous=node.previous)
            for p, node in zip(plans, self.logical.nodes, strict=True)
        ]
        self.limit = self.query.breakdown_limit if self.query.breakdown else None
        if self.limit is not None:
            self._rank_cte(plans[0])
        shared_at = {group[0]: group for group in self.logical.shared}
        inside = {p for group in self.logical.shared for p in group}
        selects = []
        for position, plan in enumerate(plans):
            if position in shared_at:
                group = shared_at[position]
                selects.append(self._shared_select([plans[p] for p in group], group))
            elif position not in inside:
                selects.append(self._series_select(plan))
        statement: exp.Expr = selects[0]
        for select in selects[1:]:
            statement = exp.union(statement, select, distinct=False, copy=False)
        if self.ctes:
            with_ = exp.With(
                expressions=[exp.CTE(this=body, alias=exp.to_identifier(name)) for name, body in self.ctes]
            )
            statement.set("with_", with_)
        compiled = CompiledQuery(
            sql="",
            expression=statement,
            query=self.query,
            timeframe=self.tf,
            labels=tuple(o.label for o in outputs),
            measures=tuple(o.measure for o in outputs),
            breakdown=tuple(self.query.breakdown),
            dialect=self.flavor.name,
            outputs=tuple(outputs),
            decisions=tuple(self.logical.decisions),
            plan=self.logical,
        )
        for rule in plan_rules():
            statement = rule(statement, compiled)
        return dataclasses.replace(compiled, sql=self.flavor.render(statement), expression=statement)

    def _check_query(self, measures: tuple[Measure, ...]) -> None:
        if self.project.timezone != "UTC" and not self.flavor.capabilities.timezones:
            raise UnsupportedError(
                f"{self.flavor.name} cannot convert times between time zones in SQL; this project's "
                f"timezone is {self.project.timezone}",
                where="project > timezone",
                hint="use timezone: UTC with this warehouse, or a warehouse with time-zone support",
            )
        if any(m.kind == "frequency" for m in measures) and (
            len(self.query.series) > 1 or self.query.formulas or self.query.compare
        ):
            raise SpecError(
                "the frequency measure gives its own result shape: use it alone (one series, no formulas, no compare)",
                where="series",
            )
        for index, (series, measure) in enumerate(zip(self.query.series, measures, strict=True)):
            if series.occurrence and measure.is_rolling:
                raise SpecError(
                    "first/last occurrence cannot be combined with a rolling active-users measure",
                    where=f"series[{index}] > occurrence",
                )

    # -- series plans -------------------------------------------------------------------------------

    def users_unique_after_reduction(self) -> bool:
        """After a per-user reduction, is each user on at most one row of each output group? Yes
        without top-N; with top-N only when every breakdown is a property of the user (then a
        user is in one group, and so in Other at most once)."""
        if not self.query.breakdown or self.query.breakdown_limit is None:
            return True
        return all(
            name == SEGMENT_BREAKDOWN
            or (name != EVENT_BREAKDOWN and self.catalog.resolve(name, "breakdown").source == USER_PROPERTY)
            for name in self.query.breakdown
        )

    def _where(self, index: int) -> str:
        series = self.query.series[index]
        return f"series[{index}] (label {series.label or self.query.labels[index]})"

    def _shared_rows_group(self, node: SeriesNode) -> list[tuple[int, SeriesNode]] | None:
        """(position, node) of the series sharing ``node``'s reduced top-N scan (rule
        ``sharing``), or None."""
        if node.shared_rows is None:
            return None
        return [(p, self.logical.nodes[p]) for p in self.logical.shared_rows[node.shared_rows]]

    def _raw_source(self, index: int, series: Series, tf: Timeframe) -> RowSource:
        return RowSource(self, series.members, list(series.where), tf, self._where(index))

    def _plan(self, node: SeriesNode, position: int, raw: RowSource) -> SeriesPlan:
        index, series, measure, tf, label = node.index, node.series, node.measure, node.tf, node.label
        where = self._where(index)
        source: RowSource = raw
        if node.scan.rollup is not None:
            source = RollupSource(self, node.scan.rollup, series, tf, where)
        elif node.preaggregate:
            group = self._shared_rows_group(node)
            info = preaggregation(node, self.catalog, list(self.query.breakdown), [n for _p, n in group or []])
            if group:  # one reduced scan of every event of the group (rule sharing, top-N)
                described = [(p, [m.event for m in n.series.members], n.measure.prop) for p, n in group]
                source = SharedReducedSource(self, info, series, tf, where, described)
                source.members = [m for _p, n in group for m in n.series.members]
            else:
                source = PreAggregatedSource(self, info, series, tf, where, rolling=measure.is_rolling)
        source.prune = node.prune
        source.partition_time = node.partition_time
        if series.occurrence:
            source.set_occurrence(series.occurrence, series.occurrence_scope)
        plan = SeriesPlan(position, label, measure, source, tf)
        if isinstance(source, RollupSource):
            source.measure_prop = measure.prop
            if isinstance(source, SharedReducedSource):  # its own conditional columns
                plan.rollup, plan.suffix = source.series_columns(position), str(position)
            else:
                plan.rollup = source.columns()
            if (
                isinstance(source, PreAggregatedSource)
                and not measure.is_rolling
                and self.users_unique_after_reduction()
            ):
                # reduced per (bucket, groups, user) and joined to one row per user: each user is
                # on at most one row of an output group, so counting users needs no DISTINCT
                plan.rollup = dataclasses.replace(plan.rollup, users_unique=True)
        if measure.prop is not None:
            prop = source.resolve(measure.prop, f"{where} > measure")
            if prop.kind not in NUMERIC:
                raise SpecError(
                    f"measure {series.measure!r} needs a numeric property, but {measure.prop!r} is {prop.kind}",
                    where=f"{where} > measure",
                )
            if plan.rollup is None:
                plan.value = exp.cast(source.prop(prop), exp.DataType.Type.DOUBLE)
        if measure.quantile is not None and not self.flavor.capabilities.exact_percentiles:
            raise UnsupportedError(
                f"{self.flavor.name} has no exact percentile, so measure {series.measure!r} cannot run there",
                where=f"{where} > measure",
                hint="use avg/min/max, or a warehouse with exact percentiles (DuckDB, PostgreSQL, Snowflake ...)",
            )
        if self.query.segment is not None:
            segment = self._segment(source)
            if SEGMENT_BREAKDOWN not in self.query.breakdown:  # else it splits instead of restricting
                source.extra_filters.append(segment)
        for b_index, name in enumerate(self.query.breakdown):
            if name == EVENT_BREAKDOWN:
                plan.groups.append(self.flavor.as_text(source.event_name(), "string"))
            elif name == SEGMENT_BREAKDOWN and self.query.segment is not None:
                plan.groups.append(
                    exp.Case(
                        ifs=[exp.If(this=self._segment(source), true=exp.Literal.string("in"))],
                        default=exp.Literal.string("not in"),
                    )
                )
            else:
                prop = source.resolve(name, f"breakdown[{b_index}]")
                plan.groups.append(self.flavor.as_text(source.prop(prop), prop.kind))
        return plan

    # -- segments -------------------------------------------------------------------------------------

    def _segment(self, source: RowSource) -> exp.Expr:
        """Membership of the source's user in the query's segment, as one boolean expression."""
        segment = self.query.segment
        assert segment is not None
        parts: list[exp.Expr] = []
        for key, spec in (("did", segment.did), ("did_not", segment.did_not)):
            if spec is None:
                continue
            location = f"segment > {key}"
            tf = None
            if spec.date_range is not None:
                from .timeframe import resolve_range

                tf = resolve_range(spec.date_range, self.project.timezone, self.tf.now)
            users = RowSource(self, spec.members, list(spec.where), tf, location)
            user = users.user()
            subquery = users.select([user], distinct=True)
            subquery = subquery.where(exp.Not(this=exp.Is(this=user.copy(), expression=exp.Null())), copy=False)
            member = exp.In(this=source.user(), query=exp.Subquery(this=subquery))
            parts.append(member if key == "did" else exp.Not(this=member))
        for c_index, cond in enumerate(segment.user_where):
            parts.append(self._user_condition(source, cond, f"segment > user_where[{c_index}]"))
        # Events without a user id are never in a segment (whatever user_where says of nulls).
        parts.append(exp.Not(this=exp.Is(this=source.user(), expression=exp.Null())))
        return and_all(parts) or exp.true()

    def _user_condition(self, source: RowSource, cond: Condition, where: str) -> exp.Expr:
        prop = self.catalog.resolve(cond.property, f"{where} > property")
        if prop.source != "user":
            raise SpecError(
                f"segment user_where takes user properties; {cond.property!r} is an event property", where=where
            )
        return build_condition(self, source.prop(prop), prop, cond, where)

    # -- bucket and measure ---------------------------------------------------------------------------

    def source_bucket(self, source: RowSource) -> exp.Expr:
        """The bucket of a source's rows: from its day when the grain is a day or coarser (the
        partition column can stand in for the event time then), else from its local time."""
        if isinstance(source, PreAggregatedSource) and not source.rolling:
            return source.local_time()  # reduced per query bucket already (no second truncation)
        day_rows = source.partition_time or isinstance(source, RollupSource)
        if day_rows and self.tf.grain in ("day", "week", "month", "quarter", "year"):
            day = source.day_time()
            return day if self.tf.grain == "day" else self.bucket(day)
        return self.bucket(source.local_time())

    def bucket(self, local: exp.Expr) -> exp.Expr:
        grain = self.tf.grain
        offset = self.project.week_start_index if grain == "week" else 0
        if offset:
            shifted = self.flavor.add_days(local, -offset)
            return self.flavor.add_days(self.flavor.truncate("week", shifted), offset)
        return self.flavor.truncate(grain, local)

    def aggregate(
        self, measure: Measure, user: exp.Expr, value: exp.Expr | None, rollup: RollupColumns | None = None
    ) -> exp.Expr:
        kind = measure.kind
        if rollup is not None:
            return self._rollup_aggregate(measure, user, rollup)
        if measure.custom is not None:
            result = measure.custom.aggregate(MeasureContext(user=user, value=value, flavor=self.flavor))
            return (
                self.flavor.as_bigint(result) if measure.custom.result == "integer" else self.flavor.as_double(result)
            )
        if kind == "events":
            return self.flavor.as_bigint(exp.Count(this=exp.Star()))
        if kind in ("unique_users", "active_users", "frequency") or measure.is_per_user:
            return self.flavor.as_bigint(exp.Count(this=exp.Distinct(expressions=[user])))
        if kind == "events_per_user":
            users = exp.Nullif(this=exp.Count(this=exp.Distinct(expressions=[user])), expression=exp.Literal.number(0))
            return exp.Div(this=self.flavor.as_double(exp.Count(this=exp.Star())), expression=users)
        assert value is not None
        return self._across(kind, measure.quantile, value)

    def _rollup_aggregate(self, measure: Measure, user: exp.Expr, r: RollupColumns) -> exp.Expr:
        """The measure over rollup-shaped rows: counts and sums add up, minima and maxima combine."""
        kind = measure.kind
        if kind == "events":
            return self.flavor.as_bigint(exp.Sum(this=r.events))
        counted: exp.Expr = exp.Count(this=user) if r.users_unique else exp.Count(this=exp.Distinct(expressions=[user]))
        if kind in ("unique_users", "active_users", "frequency") or measure.is_per_user:
            return self.flavor.as_bigint(counted)
        if kind == "events_per_user":
            users = exp.Nullif(this=counted, expression=exp.Literal.number(0))
            return exp.Div(this=self.flavor.as_double(exp.Sum(this=r.events)), expression=users)
        if kind == "sum" and r.sum is not None:
            return self.flavor.as_double(exp.Sum(this=r.sum))
        if kind == "avg" and r.sum is not None and r.count is not None:
            count = exp.Nullif(this=exp.Sum(this=r.count), expression=exp.Literal.number(0))
            return exp.Div(this=self.flavor.as_double(exp.Sum(this=r.sum)), expression=count)
        if kind == "min" and r.min is not None:
            return self.flavor.as_double(exp.Min(this=r.min))
        if kind == "max" and r.max is not None:
            return self.flavor.as_double(exp.Max(this=r.max))
        raise UnsupportedError(f"measure {measure} cannot be computed from a rollup")  # refusal() prevents this

    def _across(self, kind: str, quantile: float | None, value: exp.Expr) -> exp.Expr:
        if kind == "sum":
            return self.flavor.as_double(exp.Sum(this=value))
        if kind == "avg":
            return self.flavor.as_double(exp.Avg(this=value))
        if kind == "min":
            return self.flavor.as_double(exp.Min(this=value))
        if kind == "max":
            return self.flavor.as_double(exp.Max(this=value))
        if kind == "percentile":
            if not self.flavor.capabilities.exact_percentiles:
                raise UnsupportedError(f"{self.flavor.name} has no exact percentile; this measure cannot run there")
            return self.flavor.as_double(self.flavor.percentile(value, quantile or 0.5))
        raise UnsupportedError(f"measure kind {kind} is not supported")  # pragma: no cover

    # -- top N ------------------------------------------------------------------------------------------

    def group_combiner(self, measure: Measure) -> Callable[[exp.Expr], exp.Expr] | None:
        """How the measure over several groups follows from its values per group (``Other`` is
        their union), or None when it does not: counts and sums add up, minima and maxima combine,
        and distinct users add up when every breakdown is a property of the user (a user is in
        one group per bucket)."""
        kind = measure.kind
        if measure.custom is not None or measure.is_rolling or measure.is_per_user:
            return None
        if kind == "events" or (kind == "unique_users" and self.users_unique_after_reduction()):
            return lambda v: self.flavor.as_bigint(exp.Sum(this=v))
        if kind == "sum":
            return lambda v: self.flavor.as_double(exp.Sum(this=v))
        if kind in ("min", "max"):
            return lambda v: self.flavor.as_double((exp.Min if kind == "min" else exp.Max)(this=v))
        return None

    def _partials(self, plan: SeriesPlan) -> str | None:
        """Top-N: the measure per (bucket, group) in a CTE ``p<i>`` when the groups' values combine
        (``group_combiner``), so the ranking and the ``Other`` mapping read one row per group instead of
        the matching rows; None otherwise."""
        if plan.partials is None and self.group_combiner(plan.measure) is not None:
            rows = self._materialize(plan)
            keys = [exp.column("_b", table=rows)] if self.tf.grain != "total" else []
            keys += [exp.column(f"_g{j}", table=rows) for j in range(len(plan.groups))]
            names = (["_b"] if self.tf.grain != "total" else []) + [f"_g{j}" for j in range(len(plan.groups))]
            user, value = exp.column("_u", table=rows), exp.column("_v", table=rows)
            partial = self.aggregate(plan.measure, user, value, self._rollup_of(plan, rows))
            select = exp.select(
                *[k.as_(n) for k, n in zip(keys, names, strict=True)], partial.as_("_p"), copy=False
            ).from_(table_ref(rows), copy=False)
            if plan.suffix:  # rows of several series (rule sharing): those with this series' events
                matched = exp.column(f"_revents{plan.suffix}", table=rows)
                select = select.where(exp.GT(this=matched, expression=exp.Literal.number(0)), copy=False)
            if keys:
                select = select.group_by(*[k.copy() for k in keys], copy=False)
            plan.partials = f"p{plan.index}"
            self.ctes.append((plan.partials, select))
        return plan.partials

    def _rank_cte(self, first: SeriesPlan) -> None:
        combine = self.group_combiner(first.measure)
        # from the partials when they also add up across buckets (users recur across buckets)
        if combine is not None and (self.tf.grain == "total" or first.measure.kind != "unique_users"):
            partials = self._partials(first) or ""
            groups: list[exp.Expr] = [exp.column(f"_g{j}", table=partials) for j in range(len(self.query.breakdown))]
            self._rank_select(partials, groups, combine(exp.column("_p", table=partials)))
            return
        rows = self._materialize(first)
        groups = [exp.column(f"_g{j}", table=rows) for j in range(len(self.query.breakdown))]
        rollup = self._rollup_of(first, rows)
        if rollup is not None:
            # Each group is ranked over all buckets, so a user recurs unless the grain is total;
            # rows reduced per (groups, user) hold a user once per group whatever the breakdown
            # (the Other mapping comes after the rank).
            unique = (
                self.tf.grain == "total" and isinstance(first.source, PreAggregatedSource) and not first.source.rolling
            )
            rollup = dataclasses.replace(rollup, users_unique=unique)
        agg = self.aggregate(first.measure, exp.column("_u", table=rows), exp.column("_v", table=rows), rollup)
        self._rank_select(rows, groups, agg)

    def _rank_select(self, table: str, groups: list[exp.Expr], agg: exp.Expr) -> None:
        """The CTE ``_rank``: each group of ``table`` numbered by ``agg``, largest first."""
        order = [exp.Ordered(this=agg, desc=True, nulls_first=False)]
        order += [exp.Ordered(this=self.flavor.text_sort_key(g), nulls_first=False) for g in groups]
        rank = exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=order))
        select = (
            exp.select(*[g.as_(f"_g{j}") for j, g in enumerate(groups)], rank.as_("_rank"), copy=False)
            .from_(table_ref(table), copy=False)
            .group_by(*groups, copy=False)
        )
        self.ctes.append(("_rank", select))

    def _materialize(self, plan: SeriesPlan) -> str:
        """Put the plan's matching rows in a CTE ``s<i>`` (user, bucket, groups, value); series
        whose rows are the same (same filters, range and value) share one CTE, so one scan."""
        if plan.materialized is None:
            name = f"s{plan.index}"
            outputs: list[exp.Expr] = [plan.source.user().as_("_u")]
            if self.tf.grain != "total":
                outputs.append(self.source_bucket(plan.source).as_("_b"))
            outputs += [g.as_(f"_g{j}") for j, g in enumerate(plan.groups)]
            outputs.append((plan.value if plan.value is not None else exp.Null()).as_("_v"))
            node = self.logical.nodes[plan.index]
            group = self._shared_rows_group(node)
            if isinstance(plan.source, SharedReducedSource) and group:
                # every series' own columns (one CTE for all): its events' count, which also tells
                # its rows, and what its measure reads
                for p, n in group:
                    needed = {"events", *ROLLUP_INPUTS.get(n.measure.kind, ("events",))}
                    columns = plan.source.series_columns(p)
                    outputs += [c.as_(f"_r{kind}{p}") for kind, c in columns.items() if kind in needed]
            elif plan.rollup is not None:
                # what this measure reads, and what series over the same rows read (one CTE for all)
                twins = [n for n in self.logical.nodes if same_filters([node, n])]
                needed = {kind for n in twins for kind in ROLLUP_INPUTS.get(n.measure.kind, ("events",))}
                outputs += [column.as_(f"_r{kind}") for kind, column in plan.rollup.items() if kind in needed]
            body = plan.source.select(outputs)
            if body in self._materialized:  # the same tree (compared structurally, not rendered)
                plan.materialized = self._materialized[body]
            else:
                self.ctes.append((name, body))
                self._materialized[body] = plan.materialized = name
        return plan.materialized

    def _rollup_of(self, plan: SeriesPlan, rows: str) -> RollupColumns | None:
        """The plan's rollup columns as materialized in CTE ``rows``."""
        if plan.rollup is None:
            return None
        return plan.rollup.materialized(rows, plan.suffix)

    def _mapped(self, groups: list[exp.Expr]) -> list[exp.Expr]:
        """``CASE WHEN _rank._rank <= N THEN g ELSE 'Other' END`` for each breakdown column."""
        if self.limit is None:
            return groups
        keep = exp.LTE(this=exp.column("_rank", table="_rank"), expression=exp.Literal.number(self.limit))
        return [exp.Case(ifs=[exp.If(this=keep.copy(), true=g)], default=exp.Literal.string(OTHER)) for g in groups]

    def _rank_join(self, rows: str) -> exp.Join:
        """Rows to their group's rank, null groups included, as plain equalities an engine can hash
        (``IS NOT DISTINCT FROM`` makes PostgreSQL loop over every row x group). Groups are text:
        ``COALESCE(a, '') = COALESCE(b, '') AND (a IS NULL) = (b IS NULL)``."""
        parts: list[exp.Expr] = []
        for j in range(len(self.query.breakdown)):
            mine, ranked = exp.column(f"_g{j}", table=rows), exp.column(f"_g{j}", table="_rank")
            parts.append(
                exp.EQ(
                    this=exp.Coalesce(this=mine, expressions=[exp.Literal.string("")]),
                    expression=exp.Coalesce(this=ranked, expressions=[exp.Literal.string("")]),
                )
            )
            parts.append(
                exp.EQ(
                    this=exp.paren(exp.Is(this=mine.copy(), expression=exp.Null()), copy=False),
                    expression=exp.paren(exp.Is(this=ranked.copy(), expression=exp.Null()), copy=False),
                )
            )
        return exp.Join(this=table_ref("_rank"), on=and_all(parts), side="LEFT")

    # -- scan sharing ---------------------------------------------------------------------------------

    def _shared_select(self, plans: list[SeriesPlan], positions: list[int]) -> exp.Select:
        """Several series from one scan (rule ``sharing``): a CTE ``sh<i>`` with one aggregate and
        one row count per series (conditional unless their filters are identical), then back to one
        row per series where its count is positive (exactly the (bucket, groups) rows a scan of its
        own gives)."""
        first = plans[0]
        info = first.source.tables[0]
        identical = same_filters([self.logical.nodes[p] for p in positions])
        hull = TimeBounds(
            min(p.source.bounds.start_utc for p in plans if p.source.bounds.start_utc is not None),
            max(p.source.bounds.end_utc for p in plans if p.source.bounds.end_utc is not None),
        )
        members = first.source.members if identical else [m for p in plans for m in p.source.members]
        shared = RowSource(self, members, list(first.source.where) if identical else [], None, first.source.location)
        shared.tables, shared.union, shared.bounds = [info], False, hull
        shared.prune = first.source.prune
        shared.partition_time = first.source.partition_time
        shared.user_joins = dict(first.source.user_joins)
        name = f"sh{first.index}"
        outputs: list[exp.Expr] = []
        keys: list[exp.Expr] = []
        if self.tf.grain != "total":
            bucket = self.source_bucket(shared)
            outputs.append(bucket.as_("_b"))
            keys.append(bucket)
        outputs += [g.copy().as_(f"_g{j}") for j, g in enumerate(first.groups)]
        keys += [g.copy() for g in first.groups]
        user = shared.user()
        # Row counts tell which (bucket, groups) rows a series has; a total without groups is one
        # row per series whatever it matched (as its own scan would be), so it needs none.
        counted = bool(keys)
        if identical and counted:
            outputs.append(self.flavor.as_bigint(exp.Count(this=exp.Star())).as_("_n"))
        for plan in plans:
            i = plan.index
            if identical:
                outputs.append(self.aggregate(plan.measure, user.copy(), plan.value).as_(f"_v{i}"))
                continue
            same_range = plan.source.bounds == hull  # the shared WHERE already applies this range
            condition = (
                and_all(
                    plan.source._branch_filters(
                        info, "e", plan.source.bounds, partition_predicate=False, time=not same_range
                    )
                )
                or exp.true()
            )

            def when(value: exp.Expr, condition: exp.Expr = condition) -> exp.Case:
                return exp.Case(ifs=[exp.If(this=condition.copy(), true=value)])

            rows = exp.Count(this=when(exp.Literal.number(1)))
            users = exp.Count(this=exp.Distinct(expressions=[when(user.copy())]))
            kind = plan.measure.kind
            if kind == "events":
                value: exp.Expr = self.flavor.as_bigint(rows.copy())
            elif kind == "unique_users":
                value = self.flavor.as_bigint(users)
            elif kind == "events_per_user":
                value = exp.Div(
                    this=self.flavor.as_double(rows.copy()),
                    expression=exp.Nullif(this=users, expression=exp.Literal.number(0)),
                )
            else:
                assert plan.value is not None
                value = self._across(kind, None, when(plan.value.copy()))
            outputs.append(value.as_(f"_v{i}"))
            if counted:
                outputs.append(rows.as_(f"_n{i}"))
        body = shared.select(outputs)
        self.ctes.append((name, body.group_by(*[group_key(k) for k in keys], copy=False) if keys else body))
        # Back to long form with one reference to the CTE (a CTE read twice may be computed twice):
        # cross join a small table of series numbers and pick each series' columns by number.
        keys_name = f"shk{first.index}"
        self.ctes.append(
            (
                keys_name,
                self.flavor.values_table(
                    [exp.Tuple(expressions=[exp.Literal.number(i)]) for i in range(len(plans))], ["_k"]
                ),
            )
        )
        number = exp.column("_k", table=keys_name)

        def pick(values: list[exp.Expr]) -> exp.Expr:
            return exp.Case(
                ifs=[
                    exp.If(this=exp.EQ(this=number.copy(), expression=exp.Literal.number(i)), true=value)
                    for i, value in enumerate(values)
                ]
            )

        cols: list[exp.Expr] = [pick([exp.Literal.string(p.label) for p in plans]).as_("series")]
        if self.tf.grain != "total":
            cols.append(exp.column("_b", table=name).as_("bucket"))
        cols += [exp.column(f"_g{j}", table=name).as_(f"_g{j}") for j in range(len(first.groups))]
        cols.append(pick([exp.column(f"_v{p.index}", table=name) for p in plans]).as_("value"))
        select = (
            exp.select(*cols, copy=False)
            .from_(table_ref(name), copy=False)
            .join(table_ref(keys_name), join_type="cross", copy=False)
        )
        if not counted:
            return select
        if identical:
            count: exp.Expr = exp.column("_n", table=name)
        else:
            count = pick([exp.column(f"_n{p.index}", table=name) for p in plans])
        return select.where(exp.GT(this=count, expression=exp.Literal.number(0)), copy=False)

    # -- one series ---------------------------------------------------------------------------------------

    def _series_select(self, plan: SeriesPlan) -> exp.Select:
        measure = plan.measure
        if measure.is_rolling:
            return self._rolling_select(plan)
        if measure.is_per_user or measure.kind == "frequency":
            return self._two_level_select(plan)
        label = exp.Literal.string(plan.label).as_("series")
        if self.limit is None:
            bucket = self.source_bucket(plan.source) if self.tf.grain != "total" else None
            outputs: list[exp.Expr] = [label]
            if bucket is not None:
                outputs.append(bucket.as_("bucket"))
            outputs += [g.as_(f"_g{j}") for j, g in enumerate(plan.groups)]
            outputs.append(self.aggregate(measure, plan.source.user(), plan.value, plan.rollup).as_("value"))
            keys = ([bucket] if bucket is not None else []) + plan.groups
            select = plan.source.select(outputs)
            return select.group_by(*[group_key(k) for k in keys], copy=False) if keys else select
        partials, combine = self._partials(plan), self.group_combiner(measure)
        rows = partials or self._materialize(plan)
        mapped = self._mapped([exp.column(f"_g{j}", table=rows) for j in range(len(plan.groups))])
        outputs = [label]
        keys = []
        if self.tf.grain != "total":
            outputs.append(exp.column("_b", table=rows).as_("bucket"))
            keys.append(exp.column("_b", table=rows))
        outputs += [g.as_(f"_g{j}") for j, g in enumerate(mapped)]
        keys += [g.copy() for g in mapped]
        if partials is not None and combine is not None:
            agg = combine(exp.column("_p", table=rows))
        else:
            agg = self.aggregate(
                measure, exp.column("_u", table=rows), exp.column("_v", table=rows), self._rollup_of(plan, rows)
            )
        outputs.append(agg.as_("value"))
        return (
            exp.select(*outputs, copy=False)
            .from_(table_ref(rows), copy=False)
            .join(self._rank_join(rows), copy=False)
            .group_by(*keys, copy=False)
        )

    def _two_level_select(self, plan: SeriesPlan) -> exp.Select:
        """Per-user measures and frequency: aggregate per user, then across users."""
        measure = plan.measure
        inner_name = f"pu{plan.index}"
        if self.limit is None:
            source_groups = plan.groups
            user = plan.source.user()
            bucket = self.source_bucket(plan.source) if self.tf.grain != "total" else None
            value = plan.value
            rollup = plan.rollup
        else:
            rows = self._materialize(plan)
            rollup = self._rollup_of(plan, rows)
            source_groups = self._mapped([exp.column(f"_g{j}", table=rows) for j in range(len(plan.groups))])
            user = exp.column("_u", table=rows)
            bucket = exp.column("_b", table=rows) if self.tf.grain != "total" else None
            value = exp.column("_v", table=rows)
        if rollup is not None:
            value = rollup.sum
        if measure.kind == "user_sum":
            assert value is not None
            per_user: exp.Expr = exp.Coalesce(this=exp.Sum(this=value), expressions=[exp.Literal.number(0)])
        elif rollup is not None:
            per_user = exp.Sum(this=rollup.events)
        else:
            per_user = exp.Count(this=exp.Star())
        inner_outputs: list[exp.Expr] = []
        inner_keys: list[exp.Expr] = []
        if bucket is not None:
            inner_outputs.append(bucket.as_("_b"))
            inner_keys.append(bucket)
        inner_outputs += [g.as_(f"_g{j}") for j, g in enumerate(source_groups)]
        inner_keys += list(source_groups)
        inner_outputs += [user.as_("_u"), per_user.as_("_pu")]
        inner_keys.append(user)
        if self.limit is None:
            inner = plan.source.select(inner_outputs)
        else:
            inner = (
                exp.select(*inner_outputs, copy=False)
                .from_(table_ref(plan.materialized or ""), copy=False)
                .join(self._rank_join(plan.materialized or ""), copy=False)
            )
        not_null_user = exp.Not(this=exp.Is(this=user.copy(), expression=exp.Null()))
        inner = inner.where(not_null_user, copy=False).group_by(*[group_key(k) for k in inner_keys], copy=False)
        self.ctes.append((inner_name, inner))
        outputs: list[exp.Expr] = [exp.Literal.string(plan.label).as_("series")]
        keys: list[exp.Expr] = []
        if bucket is not None:
            outputs.append(exp.column("_b", table=inner_name).as_("bucket"))
            keys.append(exp.column("_b", table=inner_name))
        for j in range(len(plan.groups)):
            outputs.append(exp.column(f"_g{j}", table=inner_name).as_(f"_g{j}"))
            keys.append(exp.column(f"_g{j}", table=inner_name))
        pu = exp.column("_pu", table=inner_name)
        if measure.kind == "frequency":
            outputs.append(self.flavor.as_bigint(pu.copy()).as_("_f"))
            keys.append(pu.copy())
            outputs.append(self.flavor.as_bigint(exp.Count(this=exp.Star())).as_("value"))
        else:
            value_expr = self._across(measure.across or "avg", measure.quantile, self.flavor.as_double(pu))
            outputs.append(value_expr.as_("value"))
        return exp.select(*outputs, copy=False).from_(table_ref(inner_name), copy=False).group_by(*keys, copy=False)

    # -- rolling active users --------------------------------------------------------------------------

    def _rolling_select(self, plan: SeriesPlan) -> exp.Select:
        """Rolling active users without joining raw events to a date spine.

        1. ``d``: distinct (user, local day, groups) over the range and its look-back, with the
           top-N mapping applied first (so a user in two "other" groups is one user of Other);
        2. ``iv``: each active day ``d`` opens the half-open interval ``[d, min(next active day,
           d + N))`` (the next day per user and groups by a window): a user's intervals never
           overlap and their union is the days the user counts as active;
        3. ``dd``: +1 at each interval start, -1 at each end, summed per (groups, day);
        4. each bucket sums the deltas up to its window's last day (a join with the small bucket
           table): users active that day. Rows that sum to 0 are dropped (never non-empty).
        """
        window = plan.measure.window_days or 1
        source = plan.source
        n_groups = len(plan.groups)
        lookback_start = (plan.tf.start - timedelta(days=window - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
        source.bounds = dataclasses.replace(
            source.bounds, start_utc=min(plan.tf.start_utc, to_utc(lookback_start, self.project.tz))
        )
        day = source.day_time()
        group_names = [f"_g{j}" for j in range(n_groups)]
        days_name = f"d{plan.index}"
        named_groups = [g.as_(name) for g, name in zip(plan.groups, group_names, strict=True)]
        pairs = source.select([source.user().as_("_u"), day.as_("_d"), *named_groups], distinct=True)
        # A null user id is nobody: it must not open an interval.
        pairs = pairs.where(exp.Not(this=exp.Is(this=source.user(), expression=exp.Null())), copy=False)
        if self.limit is not None:
            raw_name = f"draw{plan.index}"
            self.ctes.append((raw_name, pairs))
            mapped = self._mapped([exp.column(name, table=raw_name) for name in group_names])
            pairs = (
                exp.select(
                    exp.column("_u", table=raw_name).as_("_u"),
                    exp.column("_d", table=raw_name).as_("_d"),
                    *[g.as_(name) for g, name in zip(mapped, group_names, strict=True)],
                    copy=False,
                )
                .distinct(copy=False)
                .from_(table_ref(raw_name), copy=False)
                .join(self._rank_join(raw_name), copy=False)
            )
        self.ctes.append((days_name, pairs))

        def col(name: str, table: str) -> exp.Column:
            return exp.column(name, table=table)

        # The user's next active day: LAG over descending days (LEAD would need a frame reaching
        # ahead, which ClickHouse's default frame does not; its LAG gives a default, not NULL, at
        # the edge, hence the `> _s` guard below).
        following = exp.Window(
            this=exp.Lag(this=col("_d", days_name)),
            partition_by=[col("_u", days_name), *[col(n, days_name) for n in group_names]],
            order=exp.Order(expressions=[exp.Ordered(this=col("_d", days_name), desc=True)]),
        )
        intervals_name = f"iv{plan.index}"
        self.ctes.append(
            (
                intervals_name,
                exp.select(
                    *[col(n, days_name).as_(n) for n in group_names],
                    col("_d", days_name).as_("_s"),
                    following.as_("_nx"),
                    copy=False,
                ).from_(table_ref(days_name), copy=False),
            )
        )
        # The interval ends at the next active day or N days on, whichever is first (a CASE,
        # not LEAST: some dialects render LEAST with a null guard that repeats the window).
        window_end = self.flavor.add_days(col("_s", intervals_name), window)
        sooner = exp.and_(
            exp.GT(this=col("_nx", intervals_name), expression=col("_s", intervals_name)),
            exp.LT(this=col("_nx", intervals_name), expression=window_end.copy()),
            copy=False,
        )
        ends = exp.Case(ifs=[exp.If(this=sooner, true=col("_nx", intervals_name))], default=window_end)
        deltas = []
        for edge, sign in ((col("_s", intervals_name), 1), (ends, -1)):
            deltas.append(
                exp.select(
                    *[col(n, intervals_name).as_(n) for n in group_names],
                    edge.as_("_day"),
                    exp.Literal.number(sign).as_("_c"),
                    copy=False,
                ).from_(table_ref(intervals_name), copy=False)
            )
        delta_name = f"dl{plan.index}"
        self.ctes.append((delta_name, exp.union(deltas[0], deltas[1], distinct=False, copy=False)))
        daily_name = f"dd{plan.index}"
        daily_keys = [*[col(n, delta_name) for n in group_names], col("_day", delta_name)]
        self.ctes.append(
            (
                daily_name,
                exp.select(
                    *[col(n, delta_name).as_(n) for n in group_names],
                    col("_day", delta_name).as_("_day"),
                    exp.Sum(this=col("_c", delta_name)).as_("_c"),
                    copy=False,
                )
                .from_(table_ref(delta_name), copy=False)
                .group_by(*daily_keys, copy=False),
            )
        )
        spine_name = f"spine{plan.index}"
        self.ctes.append((spine_name, self._spine(plan.tf)))
        upto = exp.LTE(this=col("_day", daily_name), expression=col("_hi", spine_name))
        outputs: list[exp.Expr] = [exp.Literal.string(plan.label).as_("series")]
        keys: list[exp.Expr] = []
        if self.tf.grain != "total":
            outputs.append(col("_b", spine_name).as_("bucket"))
            keys.append(col("_b", spine_name))
        outputs += [col(n, daily_name).as_(n) for n in group_names]
        keys += [col(n, daily_name) for n in group_names]
        active = exp.Sum(this=col("_c", daily_name))
        outputs.append(self.flavor.as_bigint(active).as_("value"))
        select = (
            exp.select(*outputs, copy=False)
            .from_(table_ref(spine_name), copy=False)
            .join(table_ref(daily_name), on=upto, join_type="inner", copy=False)
        )
        if keys:
            select = select.group_by(*keys, copy=False)
        return select.having(exp.GT(this=active.copy(), expression=exp.Literal.number(0)), copy=False)

    def _spine(self, tf: Timeframe) -> exp.Expr:
        """One row per bucket: its start and the last day of the range in it (where its window ends)."""
        last_day = truncate(tf.end - timedelta(microseconds=1), "day", 0)
        buckets = tf.buckets
        step = SERIES_STEPS.get(tf.grain)
        series = self.flavor.timestamp_series(ts_text(buckets[0]), ts_text(buckets[-1]), *step) if step else None
        if series is not None and step is not None:  # generated by the warehouse: no literal per bucket
            first = exp.column("_b", table="g")
            if tf.grain == "day":
                hi: exp.Expr = first.copy()
            else:  # the bucket's last day, or the range's last day in the last bucket
                next_start = exp.Add(this=first.copy(), expression=self.flavor.interval(*step))
                bucket_end = self.flavor.add_days(next_start, -1)
                last = self.flavor.timestamp_literal(ts_text(last_day), False)
                hi = exp.Case(
                    ifs=[exp.If(this=exp.LT(this=bucket_end, expression=last), true=bucket_end.copy())],
                    default=last.copy(),
                )
            return series.select(hi.as_("_hi"), copy=False)
        rows = []
        for i, start in enumerate(buckets):
            following = buckets[i + 1] if i + 1 < len(buckets) else None
            end_day = truncate(following - timedelta(microseconds=1), "day", 0) if following else last_day
            end_day = min(end_day, last_day)
            rows.append(
                exp.Tuple(
                    expressions=[
                        self.flavor.timestamp_literal(ts_text(start), False),
                        self.flavor.timestamp_literal(ts_text(end_day), False),
                    ]
                )
            )
        return self.flavor.values_table(rows, ["_b", "_hi"])
