"""Rollup-shaped row sources: a series answered from a rollup table (whole covered buckets)
with raw events pre-aggregated to the same shape at the edges, raw events reduced per user
before a join (rule ``preaggregate``), and one reduced scan for several top-N series (rule
``sharing``). What a rollup is and when it answers exactly: ``segwise.rollups``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlglot import exp

from segwise.catalog import EVENT_PROPERTY, USER_PROPERTY, ResolvedProperty
from segwise.measures import RollupColumns
from segwise.rollups import BUCKET, EVENT_DIMENSION, RollupInfo, measure_column
from segwise.timeframe import ts_text

from .rows import RowSource, TimeBounds, and_all, group_key

if TYPE_CHECKING:
    from segwise.plan_rollup import RollupRead, RollupSplit
    from segwise.query import Series
    from segwise.timeframe import Timeframe

    from .scope import Scope


class RollupSource(RowSource):
    """A series' rows in the rollup's shape: whole covered buckets from the rollup table, the
    rest of the range from raw events pre-aggregated the same way (``UNION ALL``, alias ``e``),
    split where the plan's ``RollupSplit`` says (rule ``rollups``)."""

    def __init__(self, scope: Scope, info: RollupInfo, series: Series, tf: Timeframe, location: str):
        # the raw table the rows are of (the plan's scan reads it alone: bind checked every name)
        super().__init__(scope, series.members, list(series.where), tf, location, [info.source])
        self.info = info
        self.read: RollupRead | None = None  # the columns the measure reads (the plan's, or of its shape)
        self.split: RollupSplit | None = None  # the plan's: the rollup's whole buckets read, the raw edges

    def _col(self, name: str) -> exp.Column:
        return exp.column(name, table="e", quoted=True)

    def user_id(self) -> exp.Expr:
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

    @property
    def day_rows(self) -> bool:
        return True  # rollup rows are day (or hour) buckets already

    def columns(self) -> RollupColumns:
        """The measure's inputs as the plan's ``RollupRead`` names them: ``events`` and the
        partials of the measured property the rows hold."""
        read = self.read
        assert read is not None, "lowering gives a rollup-shaped source the columns its measure reads"

        def col(kind: str) -> exp.Expr | None:
            name = read.column(kind)
            return self._col(name) if name is not None else None

        events = col("events")
        assert events is not None, "rollup-shaped rows always count their events"
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

    def _scan(
        self, outputs: list[exp.Expr], bounds: TimeBounds, distinct: bool, reads: Sequence[exp.Expr] = ()
    ) -> exp.Select:
        split = self.split
        assert split is not None, "rule rollups splits the range between the rollup and raw edges"
        outer = self._outer_filters()
        joined = [*outer, *reads]  # what the user joins are decided on
        # Projection pushdown: only the columns the outer query reads (plus the bucket).
        keep = {BUCKET} | {c.name for node in [*outputs, *joined] for c in node.find_all(exp.Column) if c.table == "e"}
        if self.user_joins and self.info.user_column is not None:
            keep.add(self.info.user_column)  # the user-table join reads it
        parts: list[exp.Expr] = [self._branch(*split.interior, keep)]
        for lo, hi in split.edges:
            raw = RowSource(self.c, self.members, self.where, self.tf, self.location, self.tables)
            raw.planned, raw.events, raw.users = self.planned, self.events, self.users
            raw.after_join = self.after_join
            raw.bounds = TimeBounds(lo, hi)
            parts.append(rollup_rows(self.c, self.info, raw, keep))
        union = parts[0]
        for part in parts[1:]:
            union = exp.union(union, part, distinct=False, copy=False)
        return self._over(union, outputs, outer, distinct, reads)

    def _over(
        self,
        rows: exp.Expr,
        outputs: list[exp.Expr],
        outer: list[exp.Expr],
        distinct: bool,
        reads: Sequence[exp.Expr] = (),
    ) -> exp.Select:
        """``SELECT outputs FROM (rows) AS e`` with the user joins and the outer filters."""
        derived = exp.Subquery(this=rows, alias=exp.TableAlias(this=exp.to_identifier("e", quoted=True)))
        select = exp.select(*outputs, copy=False)
        if distinct:
            select = select.distinct(copy=False)
        select = self._joins(select.from_(derived, copy=False), *outer, *reads)
        condition = and_all(outer)
        return select.where(condition, copy=False) if condition is not None else select


def rollup_rows(
    scope: Scope,
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
    flavor = scope.flavor
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
        keys.append(raw.user_id())
        outputs.append(raw.user_id().as_(info.user_column))
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
        scope: Scope,
        info: RollupInfo,
        series: Series,
        tf: Timeframe,
        location: str,
        rolling: bool = False,
    ):
        super().__init__(scope, info, series, tf, location)
        self.rolling = rolling  # rolling users need day buckets, whatever the query's grain

    def bucket(self) -> exp.Expr:
        if not self.rolling:
            return self.local_time()  # reduced per query bucket already (no second truncation)
        return super().bucket()

    def _scan(
        self, outputs: list[exp.Expr], bounds: TimeBounds, distinct: bool, reads: Sequence[exp.Expr] = ()
    ) -> exp.Select:
        outer = self._outer_filters()
        joined = [*outer, *reads]  # what the user joins are decided on
        keep = {BUCKET} | {c.name for node in [*outputs, *joined] for c in node.find_all(exp.Column) if c.table == "e"}
        if self.info.user_column is not None:
            keep.add(self.info.user_column)
        event_where = [c for c in self.where if not self._uses_user_props([c])]
        raw = RowSource(self.c, self.members, event_where, self.tf, self.location, self.tables)
        raw.planned, raw.events, raw.time, raw.partitions = self.planned, self.events, self.time, self.partitions
        raw.after_join = self.after_join
        raw.bounds, raw.prune, raw.partition_time = bounds, self.prune, self.partition_time
        raw.users = self.users
        grain = self.c.bucketing.grain
        total = self.c.bucketing.total and not self.rolling
        bucket: exp.Expr | None = None
        if self.rolling or grain == "day":
            bucket = raw.day_time()
        elif not total:
            bucket = raw.bucket()
        rows = rollup_rows(self.c, self.info, raw, keep, bucket=bucket, no_bucket=total, measures=self._measures(raw))
        return self._over(rows, outputs, outer, distinct, reads)

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
        scope: Scope,
        info: RollupInfo,
        series: Series,
        tf: Timeframe,
        location: str,
        group: list[tuple[int, list[str], str | None]],
    ):
        super().__init__(scope, info, series, tf, location)
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
