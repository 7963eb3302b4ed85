"""Compile a validated query into one sqlglot expression (no SQL strings from user input).

The statement returns long-form rows ``series, bucket, _g0.._gN, value`` for every non-empty
(series, breakdown values, bucket); post-processing in Arrow fills the empty buckets.

Shape of the SQL, per series (``UNION ALL`` across series):

* plain:   ``SELECT label, bucket, groups, AGG FROM events [LEFT JOIN users] WHERE ... GROUP BY``
* top-N:   the matching rows become a CTE ``s<i>``; a CTE ``_rank`` ranks the groups by the
           first series' measure over the whole range; groups beyond N map to ``'Other'``
           *before* aggregating, so a user in two "other" groups counts once.
* rolling: distinct (user, local day, groups) first (``d<i>``), then each bucket counts the
           users of the N days ending on its last day, joined against a small bucket spine.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from .catalog import EVENT_PROPERTY, USER_PROPERTY, Catalog, ResolvedProperty
from .errors import CatalogError, SpecError, UnsupportedError
from .measures import Measure, MeasureContext, parse_measure
from .query import (
    ANY_EVENT,
    ORDER_OPS,
    TEXT_OPS,
    Condition,
    Query,
    Scalar,
    Series,
)
from .registry import plan_rules
from .timeframe import Timeframe, truncate

if TYPE_CHECKING:
    from segwise.adapters.base import SqlFlavor

    from .catalog import EventTableInfo
    from .project import Project

OTHER = "Other"
EVENT_BREAKDOWN = "event"
NUMERIC = ("integer", "float")


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
    notes: tuple[str, ...] = field(default=())

    @property
    def value_is_integer(self) -> bool:
        return all(m.is_count for m in self.measures)


def _t(name: str) -> exp.Table:
    """A CTE reference (built, never parsed)."""
    return exp.Table(this=exp.to_identifier(name))


def _lit(value: Scalar) -> exp.Expr:
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)):
        return exp.Literal.number(repr(value) if isinstance(value, float) else str(value))
    return exp.Literal.string(str(value))


def _ts_text(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def _and(conditions: list[exp.Expr]) -> exp.Expr | None:
    if not conditions:
        return None
    return exp.and_(*conditions, copy=False) if len(conditions) > 1 else conditions[0]


class QueryCompiler:
    """Builds the statement for one query against one catalog, in one flavor."""

    def __init__(
        self, project: Project, catalog: Catalog, flavor: SqlFlavor, query: Query, timeframe: Timeframe
    ) -> None:
        self.project = project
        self.catalog = catalog
        self.flavor = flavor
        self.query = query
        self.tf = timeframe
        self.ctes: list[tuple[str, exp.Expr]] = []

    # -- entry point --------------------------------------------------------------------------------

    def compile(self) -> CompiledQuery:
        if self.project.timezone != "UTC" and not self.flavor.capabilities.timezones:
            raise UnsupportedError(
                f"{self.flavor.name} cannot convert times between time zones in SQL; this project's "
                f"timezone is {self.project.timezone}",
                where="project > timezone",
                hint="use timezone: UTC with this warehouse, or a warehouse with time-zone support",
            )
        measures = tuple(parse_measure(s.measure) for s in self.query.series)
        sources = [self._source(i, s, m) for i, (s, m) in enumerate(zip(self.query.series, measures, strict=True))]
        limit = self.query.breakdown_limit if self.query.breakdown else None
        if limit is not None:
            self._rank_cte(sources[0], measures[0], limit)
        selects = [self._series_select(src, m, limit) for src, m in zip(sources, measures, strict=True)]
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
            labels=tuple(self.query.labels),
            measures=measures,
            breakdown=tuple(self.query.breakdown),
            dialect=self.flavor.name,
        )
        for rule in plan_rules():
            statement = rule(statement, compiled)
        return dataclasses.replace(compiled, sql=self.flavor.render(statement), expression=statement)

    # -- sources: the rows of one series ------------------------------------------------------------

    def _source(self, index: int, series: Series, measure: Measure) -> SeriesSource:
        label = series.label or self.query.labels[index]
        where = f"series[{index}] (label {label})"
        tables: list[int] = []
        for member in series.members:
            self.catalog.check_event(member.event, f"{where} > event")
            for t in self.catalog.tables_with_event(member.event):
                if t not in tables:
                    tables.append(t)
        if len(tables) > 1:
            raise UnsupportedError(
                "this series reads events from several event tables; combining tables is not supported yet",
                where=where,
            )
        info = self.catalog.event_tables[tables[0]]
        src = SeriesSource(self, index, label, info, measure)
        if measure.prop is not None:
            prop = self._resolve(measure.prop, f"{where} > measure")
            if prop.kind not in NUMERIC:
                raise SpecError(
                    f"measure {series.measure!r} needs a numeric property, but {measure.prop!r} is {prop.kind}",
                    where=f"{where} > measure",
                )
            src.value = exp.cast(src.prop(prop), exp.DataType.Type.DOUBLE)
        # Event names (each combined member with its own filters) and series filters.
        member_conditions: list[exp.Expr] = []
        for m_index, member in enumerate(series.members):
            parts: list[exp.Expr] = []
            if member.event != ANY_EVENT and info.spec.event_name is not None:
                parts.append(exp.EQ(this=src.event_name(), expression=exp.Literal.string(member.event)))
            for c_index, cond in enumerate(member.where):
                parts.append(self._condition(src, cond, f"{where} > event > any_of[{m_index}] > where[{c_index}]"))
            if not parts:
                member_conditions = []  # one member matches every event of the table
                break
            member_conditions.append(_and(parts) or exp.true())
        if member_conditions:
            combined = member_conditions[0] if len(member_conditions) == 1 else exp.or_(*member_conditions, copy=False)
            src.filters.append(exp.paren(combined, copy=False) if len(member_conditions) > 1 else combined)
        for c_index, cond in enumerate(series.where):
            src.filters.append(self._condition(src, cond, f"{where} > where[{c_index}]"))
        for b_index, name in enumerate(self.query.breakdown):
            if name == EVENT_BREAKDOWN:
                src.groups.append(self.flavor.as_text(src.event_name(), "string"))
            else:
                prop = self._resolve(name, f"breakdown[{b_index}]")
                src.groups.append(self.flavor.as_text(src.prop(prop), prop.kind))
        return src

    def _resolve(self, name: str, where: str) -> ResolvedProperty:
        return self.catalog.resolve(name, where)

    # -- conditions ---------------------------------------------------------------------------------

    def _condition(self, src: SeriesSource, cond: Condition, where: str) -> exp.Expr:
        prop = self._resolve(cond.property, f"{where} > property")
        column = src.prop(prop)
        op = cond.op
        if op == "is_null":
            return exp.Is(this=column, expression=exp.Null())
        if op == "is_not_null":
            return exp.Not(this=exp.Is(this=column, expression=exp.Null()))
        if op in TEXT_OPS and prop.kind != "string":
            raise SpecError(f"operator '{op}' works on text properties; {cond.property!r} is {prop.kind}", where=where)
        if op in ORDER_OPS and prop.kind in ("boolean",):
            raise SpecError(f"operator '{op}' does not apply to the boolean property {cond.property!r}", where=where)
        values = [self._operand(v, prop, where) for v in cond.operands]
        if op == "eq":
            return exp.EQ(this=column, expression=values[0])
        if op == "neq":
            return exp.NEQ(this=column, expression=values[0])
        if op == "gt":
            return exp.GT(this=column, expression=values[0])
        if op == "gte":
            return exp.GTE(this=column, expression=values[0])
        if op == "lt":
            return exp.LT(this=column, expression=values[0])
        if op == "lte":
            return exp.LTE(this=column, expression=values[0])
        if op == "in":
            return exp.In(this=column, expressions=values)
        if op == "not_in":
            return exp.Not(this=exp.In(this=column, expressions=values))
        if op == "between":
            return exp.Between(this=column, low=values[0], high=values[1])
        text = str(cond.value)
        position = exp.StrPosition(this=column, substr=exp.Literal.string(text))
        if op == "contains":
            return exp.GT(this=position, expression=exp.Literal.number(0))
        if op == "not_contains":
            return exp.EQ(this=position, expression=exp.Literal.number(0))
        if op == "starts_with":
            prefix = exp.Substring(this=column, start=exp.Literal.number(1), length=exp.Literal.number(len(text)))
            return exp.EQ(this=prefix, expression=exp.Literal.string(text))
        raise AssertionError(op)  # pragma: no cover - the model lists every operator

    def _operand(self, value: Scalar, prop: ResolvedProperty, where: str) -> exp.Expr:
        kind = prop.kind
        if kind in NUMERIC:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                number = _as_number(value)
                if number is None:
                    raise SpecError(
                        f"property {prop.name!r} is numeric ({kind}); {value!r} is not a number", where=where
                    )
                value = number
            return _lit(value)
        if kind == "string":
            if isinstance(value, bool):
                return exp.Literal.string("true" if value else "false")
            if isinstance(value, (date, datetime)):
                return exp.Literal.string(
                    value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
                )
            return exp.Literal.string(str(value))
        if kind == "boolean":
            if isinstance(value, bool):
                return exp.Boolean(this=value)
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return exp.Boolean(this=value.lower() == "true")
            raise SpecError(f"property {prop.name!r} is boolean; {value!r} is not true or false", where=where)
        if kind in ("timestamp", "timestamptz", "date"):
            moment = _as_moment(value)
            if moment is None:
                raise SpecError(
                    f"property {prop.name!r} is a {kind}; {value!r} is not a date or time (use ISO 8601)",
                    where=where,
                )
            if kind == "date" and not isinstance(moment, datetime):
                return exp.cast(exp.Literal.string(moment.isoformat()), exp.DataType.Type.DATE)
            stamp = moment if isinstance(moment, datetime) else datetime(moment.year, moment.month, moment.day)
            return self.flavor.timestamp_literal(_ts_text(stamp), kind == "timestamptz")
        return _lit(value)

    # -- bucket and measure ---------------------------------------------------------------------------

    def bucket(self, local: exp.Expr) -> exp.Expr:
        grain = self.tf.grain
        offset = self.project.week_start_index if grain == "week" else 0
        if offset:
            shifted = self.flavor.add_days(local, -offset)
            return self.flavor.add_days(self.flavor.truncate("week", shifted), offset)
        return self.flavor.truncate(grain, local)

    def aggregate(self, measure: Measure, user: exp.Expr, value: exp.Expr | None) -> exp.Expr:
        kind = measure.kind
        if measure.custom is not None:
            result = measure.custom.aggregate(MeasureContext(user=user, value=value, flavor=self.flavor))
            return (
                self.flavor.as_bigint(result) if measure.custom.result == "integer" else self.flavor.as_double(result)
            )
        if kind == "events":
            return self.flavor.as_bigint(exp.Count(this=exp.Star()))
        if kind in ("unique_users", "active_users"):
            return self.flavor.as_bigint(exp.Count(this=exp.Distinct(expressions=[user])))
        if kind == "events_per_user":
            users = exp.Nullif(this=exp.Count(this=exp.Distinct(expressions=[user])), expression=exp.Literal.number(0))
            return exp.Div(this=self.flavor.as_double(exp.Count(this=exp.Star())), expression=users)
        assert value is not None
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
                raise UnsupportedError(
                    f"{self.flavor.name} has no exact percentile; measure {measure} cannot run there"
                )
            return self.flavor.as_double(self.flavor.percentile(value, measure.quantile or 0.5))
        raise UnsupportedError(f"measure {measure} is not supported")  # pragma: no cover

    # -- top N ------------------------------------------------------------------------------------------

    def _rank_cte(self, first: SeriesSource, measure: Measure, limit: int) -> None:
        rows = first.materialize()
        groups = [exp.column(f"_g{j}", table=rows) for j in range(len(self.query.breakdown))]
        agg = self.aggregate(measure, exp.column("_u", table=rows), exp.column("_v", table=rows))
        order = [exp.Ordered(this=agg, desc=True, nulls_first=False)]
        order += [exp.Ordered(this=self.flavor.text_sort_key(g), nulls_first=False) for g in groups]
        rank = exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=order))
        select = (
            exp.select(*[g.as_(f"_g{j}") for j, g in enumerate(groups)], rank.as_("_rank"), copy=False)
            .from_(_t(rows), copy=False)
            .group_by(*groups, copy=False)
        )
        self.ctes.append(("_rank", select))
        self.limit = limit

    # -- one series ---------------------------------------------------------------------------------------

    def _series_select(self, src: SeriesSource, measure: Measure, limit: int | None) -> exp.Select:
        if measure.is_rolling:
            return self._rolling_select(src, measure, limit)
        label = exp.Literal.string(src.label).as_("series")
        if limit is None:
            groups = [g for g in src.groups]
            bucket = self.bucket(src.local_time()) if self.tf.grain != "total" else None
            value = self.aggregate(measure, src.user(), src.value)
            outputs = [label]
            if bucket is not None:
                outputs.append(bucket.as_("bucket"))
            outputs += [g.as_(f"_g{j}") for j, g in enumerate(groups)]
            outputs.append(value.as_("value"))
            keys = ([bucket] if bucket is not None else []) + groups
            select = src.select(outputs)
            return select.group_by(*[k.copy() for k in keys], copy=False) if keys else select
        rows = src.materialize()
        mapped = self._mapped_groups(rows)
        outputs = [label]
        keys = []
        if self.tf.grain != "total":
            outputs.append(exp.column("_b", table=rows).as_("bucket"))
            keys.append(exp.column("_b", table=rows))
        outputs += [g.as_(f"_g{j}") for j, g in enumerate(mapped)]
        keys += [g.copy() for g in mapped]
        outputs.append(self.aggregate(measure, exp.column("_u", table=rows), exp.column("_v", table=rows)).as_("value"))
        return (
            exp.select(*outputs, copy=False)
            .from_(_t(rows), copy=False)
            .join(self._rank_join(rows), copy=False)
            .group_by(*keys, copy=False)
        )

    def _mapped_groups(self, rows: str) -> list[exp.Expr]:
        """``CASE WHEN _rank.rank <= N THEN g ELSE 'Other' END`` for each breakdown column."""
        keep = exp.LTE(this=exp.column("_rank", table="_rank"), expression=exp.Literal.number(self.limit))
        return [
            exp.Case(
                ifs=[exp.If(this=keep.copy(), true=exp.column(f"_g{j}", table=rows))], default=exp.Literal.string(OTHER)
            )
            for j in range(len(self.query.breakdown))
        ]

    def _rank_join(self, rows: str) -> exp.Expr:
        on = _and(
            [
                exp.NullSafeEQ(this=exp.column(f"_g{j}", table=rows), expression=exp.column(f"_g{j}", table="_rank"))
                for j in range(len(self.query.breakdown))
            ]
        )
        return exp.Join(this=_t("_rank"), on=on, side="LEFT")

    # -- rolling active users --------------------------------------------------------------------------

    def _rolling_select(self, src: SeriesSource, measure: Measure, limit: int | None) -> exp.Select:
        window = measure.window_days or 1
        days_name = f"d{src.index}"
        groups = src.groups
        lookback_start = self.tf.start - timedelta(days=window - 1)
        src.lookback_start = lookback_start.replace(hour=0, minute=0, second=0, microsecond=0)
        day = self.flavor.truncate("day", src.local_time())
        inner = src.select(
            [src.user().as_("_u"), day.as_("_d"), *[g.as_(f"_g{j}") for j, g in enumerate(groups)]], distinct=True
        )
        self.ctes.append((days_name, inner))
        spine_name = f"spine{src.index}"
        self.ctes.append((spine_name, self._spine(window)))
        d_groups: list[exp.Expr] = [exp.column(f"_g{j}", table=days_name) for j in range(len(groups))]
        if limit is not None:
            keep = exp.LTE(this=exp.column("_rank", table="_rank"), expression=exp.Literal.number(limit))
            d_groups = [
                exp.Case(ifs=[exp.If(this=keep.copy(), true=g)], default=exp.Literal.string(OTHER)) for g in d_groups
            ]
        in_window = exp.Between(
            this=exp.column("_d", table=days_name),
            low=exp.column("_lo", table=spine_name),
            high=exp.column("_hi", table=spine_name),
        )
        outputs: list[exp.Expr] = [exp.Literal.string(src.label).as_("series")]
        keys: list[exp.Expr] = []
        if self.tf.grain != "total":
            outputs.append(exp.column("_b", table=spine_name).as_("bucket"))
            keys.append(exp.column("_b", table=spine_name))
        outputs += [g.as_(f"_g{j}") for j, g in enumerate(d_groups)]
        keys += [g.copy() for g in d_groups]
        outputs.append(
            self.flavor.as_bigint(exp.Count(this=exp.Distinct(expressions=[exp.column("_u", table=days_name)]))).as_(
                "value"
            )
        )
        select = (
            exp.select(*outputs, copy=False)
            .from_(_t(spine_name), copy=False)
            .join(_t(days_name), on=in_window, join_type="inner", copy=False)
        )
        if limit is not None:
            select = select.join(self._rank_join(days_name), copy=False)
        return select.group_by(*keys, copy=False)

    def _spine(self, window: int) -> exp.Expr:
        """One row per bucket: its start and the N-day window ending on its last day in range."""
        last_day = truncate(self.tf.end - timedelta(microseconds=1), "day", 0)
        rows = []
        buckets = self.tf.buckets
        for i, start in enumerate(buckets):
            following = buckets[i + 1] if i + 1 < len(buckets) else None
            end_day = truncate(following - timedelta(microseconds=1), "day", 0) if following else last_day
            end_day = min(end_day, last_day)
            low = end_day - timedelta(days=window - 1)
            rows.append(
                exp.Tuple(
                    expressions=[
                        self.flavor.timestamp_literal(_ts_text(start), False),
                        self.flavor.timestamp_literal(_ts_text(low), False),
                        self.flavor.timestamp_literal(_ts_text(end_day), False),
                    ]
                )
            )
        return self.flavor.values_table(rows, ["_b", "_lo", "_hi"])


class SeriesSource:
    """The rows one series reads: a table (plus user joins), filters, groups and measure input."""

    def __init__(self, compiler: QueryCompiler, index: int, label: str, info: EventTableInfo, measure: Measure) -> None:
        self.c = compiler
        self.index = index
        self.label = label
        self.info = info
        self.measure = measure
        self.filters: list[exp.Expr] = []
        self.groups: list[exp.Expr] = []
        self.value: exp.Expr | None = None
        self.user_joins: dict[int, str] = {}
        self.lookback_start: datetime | None = None
        self._materialized: str | None = None

    # column accessors -------------------------------------------------------------------------------
    def _col(self, name: str) -> exp.Column:
        return exp.column(name, table="e", quoted=True)

    def user(self) -> exp.Expr:
        return self._col(self.info.spec.user_id)

    def event_time(self) -> exp.Expr:
        return self._col(self.info.spec.event_time)

    def local_time(self) -> exp.Expr:
        ts: exp.Expr = self.event_time()
        kind = self.info.time_kind
        if kind == "date":
            ts = exp.cast(ts, exp.DataType.Type.TIMESTAMP)
        return self.c.flavor.to_local(ts, self.c.project.timezone, kind == "timestamptz")

    def event_name(self) -> exp.Expr:
        if self.info.spec.event_name is not None:
            return self._col(self.info.spec.event_name)
        return exp.Literal.string(self.info.spec.event_name_value or "")

    def prop(self, prop: ResolvedProperty) -> exp.Expr:
        if prop.source == EVENT_PROPERTY:
            if prop.column not in self.info.columns:
                raise CatalogError(f"property {prop.name!r} is not a column of {self.info.ref}")
            return self._col(prop.column)
        assert prop.source == USER_PROPERTY and prop.user_table is not None
        alias = self.user_joins.setdefault(prop.user_table, f"u{prop.user_table}")
        return exp.column(prop.column, table=alias, quoted=True)

    # building -------------------------------------------------------------------------------------------
    def _from(self, select: exp.Select) -> exp.Select:
        select = select.from_(self.info.ref.expression(alias="e"), copy=False)
        for table_index, alias in sorted(self.user_joins.items()):
            info = self.c.catalog.user_tables[table_index]
            on = exp.EQ(
                this=exp.column(info.spec.user_id, table=alias, quoted=True),
                expression=self.user(),
            )
            select = select.join(info.ref.expression(alias=alias), on=on, join_type="left", copy=False)
        return select

    def _time_filter(self) -> list[exp.Expr]:
        tf = self.c.tf
        has_tz = self.info.time_kind == "timestamptz"
        start_utc = tf.start_utc
        if self.lookback_start is not None:
            from .timeframe import to_utc

            start_utc = min(start_utc, to_utc(self.lookback_start, self.c.project.tz))
        flavor = self.c.flavor
        return [
            exp.GTE(
                this=flavor.time_for_compare(self.event_time(), self.info.time_kind),
                expression=flavor.timestamp_literal(_ts_text(start_utc), has_tz),
            ),
            exp.LT(
                this=flavor.time_for_compare(self.event_time(), self.info.time_kind),
                expression=flavor.timestamp_literal(_ts_text(tf.end_utc), has_tz),
            ),
        ]

    def select(self, outputs: list[exp.Expr], distinct: bool = False) -> exp.Select:
        select = exp.select(*outputs, copy=False)
        if distinct:
            select = select.distinct(copy=False)
        select = self._from(select)
        condition = _and(self._time_filter() + self.filters)
        return select.where(condition, copy=False) if condition is not None else select

    def materialize(self) -> str:
        """Put this series' matching rows in a CTE ``s<i>`` (user, bucket, groups, value)."""
        if self._materialized is None:
            name = f"s{self.index}"
            outputs: list[exp.Expr] = [self.user().as_("_u")]
            if self.c.tf.grain != "total":
                outputs.append(self.c.bucket(self.local_time()).as_("_b"))
            outputs += [g.as_(f"_g{j}") for j, g in enumerate(self.groups)]
            outputs.append((self.value if self.value is not None else exp.Null()).as_("_v"))
            self.c.ctes.append((name, self.select(outputs)))
            self._materialized = name
        return self._materialized


def _as_number(value: Any) -> int | float | None:
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                return float(value)
            except ValueError:
                return None
    return None


def _as_moment(value: Any) -> date | datetime | None:
    if isinstance(value, (date, datetime)):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value) if ("T" in value or " " in value) else date.fromisoformat(value)
        except ValueError:
            return None
    return None
