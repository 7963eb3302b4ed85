"""Row sources: the events one series (or one segment) reads, as sqlglot expressions.

A source knows which event tables hold its events and builds, per table, a *branch*: that
table's rows filtered on its own raw columns (time range, event name, event-property
conditions). One branch is read directly (``FROM events AS e``); several are combined with
``UNION ALL`` of pruned scans into a derived table ``e`` with canonical columns. Conditions on
user properties, segments and first/last occurrence apply on top, after the user-table joins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlglot import exp

from segwise.catalog import EVENT_PROPERTY, USER_PROPERTY, ResolvedProperty
from segwise.conditions import build_condition
from segwise.errors import SpecError
from segwise.eventtime import event_time, time_filter
from segwise.partitions import partition_filter
from segwise.plan import planned_conditions
from segwise.query import ANY_EVENT, Condition, EventFilter
from segwise.timeframe import ts_text

if TYPE_CHECKING:
    from segwise.catalog import EventTableInfo
    from segwise.plan import Predicate, Scan
    from segwise.plan_parts import EventNames, PartitionRange, TimeRange
    from segwise.plan_users import Join, UserTable
    from segwise.timeframe import Timeframe

    from .scope import Scope

NULL_TYPES = {
    "integer": exp.DataType.Type.BIGINT,
    "float": exp.DataType.Type.DOUBLE,
    "string": exp.DataType.Type.VARCHAR,
    "boolean": exp.DataType.Type.BOOLEAN,
    "timestamp": exp.DataType.Type.TIMESTAMP,
    "timestamptz": exp.DataType.Type.TIMESTAMPTZ,
    "date": exp.DataType.Type.DATE,
}
OCCURRENCE_COLUMN = "__segwise_occurrence"


GROUP_BY = "group_by"  # expression meta: the column to group by instead (a one-to-one conversion of it)


def group_key(expression: exp.Expr) -> exp.Expr:
    """What to ``GROUP BY`` for an output expression: the column itself when the expression is a
    one-to-one conversion of it marked so (a DATE partition column as a timestamp: grouping the
    4-byte date is cheaper, and PostgreSQL can use its index order), else the expression."""
    raw = expression.meta.get(GROUP_BY)
    return raw.copy() if isinstance(raw, exp.Expr) else expression.copy()


def and_all(conditions: Sequence[exp.Expr]) -> exp.Expr | None:
    if not conditions:
        return None
    return exp.and_(*conditions, copy=False) if len(conditions) > 1 else conditions[0]


def table_ref(name: str) -> exp.Table:
    """A CTE or alias reference (built, never parsed)."""
    return exp.Table(this=exp.to_identifier(name))


@dataclass(frozen=True)
class TimeBounds:
    """``[start_utc, end_utc)`` on the raw event-time column; ``None`` leaves a side open."""

    start_utc: datetime | None
    end_utc: datetime | None


@dataclass
class _Columns:
    """How a scope reads columns: the event alias, canonical names (union) and user aliases."""

    union: bool
    prop_slots: dict[str, str]


def placement(scan: Scan) -> dict[int, bool]:
    """Where the plan's scan places each query condition (by identity): True after the user join."""
    pairs = [(p, False) for p in scan.filters] + [(p, True) for p in scan.outer_filters]
    return {id(p.condition): outer for p, outer in pairs if p.condition is not None}


class RowSource:
    """The matching events of one series or segment event, with joins and filters."""

    def __init__(
        self,
        scope: Scope,
        members: list[EventFilter],
        where: list[Condition],
        timeframe: Timeframe | None,
        location: str,
        tables: Sequence[EventTableInfo] | None = None,
    ) -> None:
        """``tables``: the tables a plan's scan reads (bind checked every event and property
        name; the planner found the tables); without (calibration, rollup builds: no plan), the
        tables of the members' events are looked up in the catalog and every name is checked."""
        self.c = scope
        self.members = members
        self.where = where
        self.tf = timeframe
        self.bounds = TimeBounds(timeframe.start_utc, timeframe.end_utc) if timeframe else TimeBounds(None, None)
        self.location = location
        self.occurrence: str | None = None
        self.occurrence_bounds: TimeBounds | None = None
        self.extra_filters: list[exp.Expr] = []  # outer filters on users (segments)
        self.user_joins: dict[int, str] = {}  # the user tables read, by number: their alias
        self.users: Join | None = None  # the plan's join of the user tables (what they are, their columns)
        self.prune = True  # add the date-partition predicate (the planner's partitions rule decides)
        self.partition_time = False  # the day partition column stands in for the event time (rule)
        self.planned: dict[int, Predicate] = {}  # the plan's condition predicates (by condition identity)
        # the plan's placement of each condition (by identity): True after the user join
        # (``Scan.outer_filters``), False in the scan (``Scan.filters``); None: no plan read
        self.after_join: dict[int, bool] | None = None
        self.time: TimeRange | None = None  # the plan's time predicate (placed when the bounds are its range)
        self.events: EventNames | None = None  # the plan's event predicate (placed where members have no where)
        self.partitions: PartitionRange | None = None  # the plan's partition predicate (rule partitions)
        self._prop_slots: dict[str, str] = {}
        if tables is not None:  # a plan's
            self.tables, self.union = list(tables), len(tables) > 1
            return
        found: list[int] = []
        for member in members:
            self.c.catalog.check_event(member.event, f"{location} > event")
            for t in self.c.catalog.tables_with_event(member.event):
                if t not in found:
                    found.append(t)
        self.tables = [self.c.catalog.event_tables[t] for t in found]
        self.union = len(self.tables) > 1
        # Validate every condition now, so errors point at the query before any SQL is built.
        for m_index, member in enumerate(members):
            for c_index, cond in enumerate(member.where):
                self.resolve(cond.property, f"{location} > event > any_of[{m_index}] > where[{c_index}] > property")
        for c_index, cond in enumerate(where):
            self.resolve(cond.property, f"{location} > where[{c_index}] > property")

    def read_plan(self, scan: Scan, time: bool = True) -> None:
        """Read what the plan's scan says: its tables, its events, its conditions' expressions and
        (``time``) its time range as the bounds."""
        self.tables, self.union = list(scan.tables), scan.union
        self.events, self.time = scan.events, scan.time
        self.partitions = scan.partition.predicate if scan.partition is not None else None
        self.planned = planned_conditions(scan)
        self.after_join = placement(scan)
        if time and scan.time is not None:
            self.bounds = TimeBounds(scan.time.start, scan.time.end)

    # -- names ---------------------------------------------------------------------------------------

    def resolve(self, name: str, where: str) -> ResolvedProperty:
        prop = self.c.catalog.resolve(name, where)
        self.check_read(prop, where)
        return prop

    def check_read(self, prop: ResolvedProperty, where: str) -> None:
        """An event property must be a column of one of the tables read."""
        if prop.source == EVENT_PROPERTY and not any(prop.column in t.columns for t in self.tables):
            tables = ", ".join(str(t.ref) for t in self.tables)
            raise SpecError(f"property {prop.name!r} is not a column of {tables}", where=where)

    def user_table(self, index: int) -> UserTable:
        """The plan's user table number ``index`` (the plan's ``Join`` lists every one read)."""
        assert self.users is not None, "the plan joins the user tables its rows read"
        return self.users.table(index)

    def _slot(self, prop: ResolvedProperty) -> str:
        return self._prop_slots.setdefault(prop.column, f"_p{len(self._prop_slots)}")

    # -- columns in the outer scope (alias ``e`` and the user joins) -----------------------------------

    def _col(self, name: str) -> exp.Column:
        return exp.column(name, table="e", quoted=True)

    def user(self) -> exp.Expr:
        """The row's unit id (the query's ``unit``: the user id, or the unit's property, from the
        event or the joined user table); what every count of users reads."""
        prop = self.c.unit.prop
        if prop is None:
            return self.user_id()
        if prop.source == USER_PROPERTY:  # joined (on the user id) only where a statement reads it
            assert prop.user_table is not None
            return self.user_table(prop.user_table).column(prop.column, f"u{prop.user_table}")
        return self.prop(prop)

    def user_id(self) -> exp.Expr:
        """The event's user id (what user tables are joined on)."""
        return self._col("_u") if self.union else self._col(self.tables[0].spec.user_id)

    def event_name(self) -> exp.Expr:
        if self.union:
            return self._col("_e")
        return self._branch_event_name(self.tables[0], alias="e")

    def local_time(self) -> exp.Expr:
        if self.union:
            return self._col("_lt")
        return self._branch_local_time(self.tables[0], alias="e")

    def day_time(self) -> exp.Expr:
        """The local day of the event as a timestamp at midnight (``truncate('day', local)``); with
        ``partition_time`` (UTC project, day partitions of format date) the partition column itself,
        which is cheaper to read and to group by than the converted event time."""
        if self.partition_time and not self.union:
            partition = self.tables[0].spec.partition
            assert partition is not None
            column = exp.column(partition.column, table="e", quoted=True)
            day = exp.cast(column, exp.DataType.Type.TIMESTAMP)
            day.meta[GROUP_BY] = column.copy()  # DATE -> TIMESTAMP is one-to-one: group by the date
            return day
        return self.c.flavor.truncate("day", self.local_time())

    def bucket(self) -> exp.Expr:
        """The query bucket of this source's rows (the grain is not ``total``): from its day when
        the grain is a day or coarser and day rows are cheaper to read (the partition column stands
        in for the event time), else from its local time."""
        grain = self.c.bucketing.grain
        if self.day_rows and grain in ("day", "week", "month", "quarter", "year"):
            day = self.day_time()
            return day if grain == "day" else self.c.bucket(day)
        return self.c.bucket(self.local_time())

    @property
    def day_rows(self) -> bool:
        return self.partition_time

    def utc_time(self) -> exp.Expr:
        """The event time as a naive UTC timestamp (orders events unambiguously)."""
        if self.union:
            return self._col("_ut")
        return self._branch_utc_time(self.tables[0], alias="e")

    def _branch_utc_time(self, info: EventTableInfo, alias: str) -> exp.Expr:
        ts = event_time(self.c.flavor, info, alias)
        if info.time_kind == "date":
            return ts
        return self.c.flavor.to_local(ts, "UTC", info.time_kind == "timestamptz")

    def prop(self, prop: ResolvedProperty) -> exp.Expr:
        if prop.source == USER_PROPERTY:
            assert prop.user_table is not None
            alias = self.user_joins.setdefault(prop.user_table, f"u{prop.user_table}")
            return self.user_table(prop.user_table).column(prop.column, alias)
        if self.union:
            return self._col(self._slot(prop))
        return self._col(prop.column)

    # -- columns inside one table's branch --------------------------------------------------------------

    def _branch_event_name(self, info: EventTableInfo, alias: str) -> exp.Expr:
        if info.spec.event_name is not None:
            return exp.column(info.spec.event_name, table=alias, quoted=True)
        return exp.Literal.string(info.spec.event_name_value or "")

    def _branch_local_time(self, info: EventTableInfo, alias: str) -> exp.Expr:
        ts = event_time(self.c.flavor, info, alias)
        return self.c.bucketing.local(self.c.flavor, ts, info.time_kind == "timestamptz")

    def _branch_prop(self, info: EventTableInfo, prop: ResolvedProperty, alias: str) -> exp.Expr:
        if prop.column not in info.columns:
            # A typed NULL: an untyped one in an early UNION branch makes PostgreSQL pick text.
            kind = next((t.columns[prop.column].kind for t in self.tables if prop.column in t.columns), "other")
            sql_type = NULL_TYPES.get(kind)
            return exp.cast(exp.Null(), sql_type) if sql_type is not None else exp.Null()
        return exp.column(prop.column, table=alias, quoted=True)

    # -- filters ---------------------------------------------------------------------------------------

    def _time_filter(
        self, info: EventTableInfo, alias: str, bounds: TimeBounds, partition_predicate: bool = True
    ) -> list[exp.Expr]:
        flavor = self.c.flavor
        out: list[exp.Expr] = []
        partition = info.spec.partition
        # With day partitions standing in for the event time, whole-day bounds are exactly the
        # partition predicate: the event-time column need not be read at all.
        exact = (
            self.partition_time
            and partition_predicate
            and self.prune
            and all(
                b is None or b == b.replace(hour=0, minute=0, second=0, microsecond=0)
                for b in (bounds.start_utc, bounds.end_utc)
            )
        )
        if not exact:
            planned = (
                self.time.on(info, alias) if self.time and self.time.covers(bounds.start_utc, bounds.end_utc) else None
            )
            out += (
                planned if planned is not None else time_filter(flavor, info, alias, bounds.start_utc, bounds.end_utc)
            )
        if partition is not None and self.prune and partition_predicate:
            covered = self.partitions is not None and self.partitions.covers(bounds.start_utc, bounds.end_utc)
            planned_parts = self.partitions.on(info, alias) if covered and self.partitions is not None else None
            if planned_parts is None:  # other bounds than the scan's (a rollup's raw edges, a shared hull)
                part_column = exp.column(partition.column, table=alias, quoted=True)
                planned_parts = partition_filter(flavor, partition, part_column, bounds.start_utc, bounds.end_utc)
            out += planned_parts
        return out

    def _uses_user_props(self, conditions: list[Condition]) -> bool:
        """Whether a condition waits for the user join: as the plan's scan places it; rows read
        without a plan (calibration, rollup builds, a behavioural condition's rows) ask the catalog."""
        if self.after_join is None:
            return any(self.c.catalog.resolve(c.property, self.location).source == USER_PROPERTY for c in conditions)
        for c in conditions:
            assert id(c) in self.after_join, f"the plan's scan places condition {c.property!r}"
        return any(self.after_join[id(c)] for c in conditions)

    def _member_filter(self, info: EventTableInfo | None, alias: str) -> exp.Expr | None:
        """The OR of the combined-event members (name + own filters); ``info`` None = outer scope.
        Members without filters of their own: the plan's event predicate of the table."""
        planned = self._planned_events(info, alias) if not any(m.where for m in self.members) else None
        if planned is not None:
            return and_all(planned)
        parts_by_member: list[exp.Expr] = []
        for m_index, member in enumerate(self.members):
            parts: list[exp.Expr] = []
            if info is not None:
                if member.event != ANY_EVENT:
                    if info.spec.event_name is None:
                        if info.spec.event_name_value != member.event:
                            continue  # this table never holds this member's event
                    else:
                        parts.append(
                            exp.EQ(
                                this=self._branch_event_name(info, alias), expression=exp.Literal.string(member.event)
                            )
                        )
            elif member.event != ANY_EVENT:
                parts.append(exp.EQ(this=self.event_name(), expression=exp.Literal.string(member.event)))
            for c_index, cond in enumerate(member.where):
                where = f"{self.location} > event > any_of[{m_index}] > where[{c_index}]"
                parts.append(self.condition(cond, where, info, alias))
            if not parts:
                return None  # this member matches every row
            parts_by_member.append(and_all(parts) or exp.true())
        if not parts_by_member:
            return exp.false()
        if len(parts_by_member) == 1:
            return parts_by_member[0]
        return exp.paren(exp.or_(*parts_by_member, copy=False), copy=False)

    def _planned_events(self, info: EventTableInfo | None, alias: str) -> list[exp.Expr] | None:
        """The plan's event comparisons of one table's branch (None: not planned, or the outer scope)."""
        return self.events.on(info, alias) if self.events is not None and info is not None else None

    def _members_pushable(self) -> bool:
        return not any(self._uses_user_props(m.where) for m in self.members)

    def _branch_filters(
        self,
        info: EventTableInfo,
        alias: str,
        bounds: TimeBounds,
        partition_predicate: bool = True,
        time: bool = True,
    ) -> list[exp.Expr]:
        """Filters one table can apply on its own raw columns (pushed into its scan); ``time``:
        include the time range (a shared scan whose WHERE already has this exact range does not)."""
        filters = self._time_filter(info, alias, bounds, partition_predicate) if time else []
        if self._members_pushable():
            member = self._member_filter(info, alias)
            if member is not None:
                filters.append(member)
        elif (planned := self._planned_events(info, alias)) is not None:
            filters += planned  # the events only: their own filters need the user join
        else:
            names = [m.event for m in self.members if m.event != ANY_EVENT and info.spec.event_name is not None]
            if names and len(names) == len(self.members):
                column = self._branch_event_name(info, alias)
                filters.append(exp.In(this=column, expressions=[exp.Literal.string(n) for n in dict.fromkeys(names)]))
        for c_index, cond in enumerate(self.where):
            if not self._uses_user_props([cond]):
                filters.append(self.condition(cond, f"{self.location} > where[{c_index}]", info, alias))
        return filters

    def _outer_filters(self) -> list[exp.Expr]:
        """Filters that need user properties (applied after the user joins), and segments."""
        filters: list[exp.Expr] = []
        if not self._members_pushable():
            member = self._member_filter(None, "e")
            if member is not None:
                filters.append(member)
        for c_index, cond in enumerate(self.where):
            if self._uses_user_props([cond]):
                filters.append(self.condition(cond, f"{self.location} > where[{c_index}]", None, "e"))
        return filters + self.extra_filters

    # -- conditions ---------------------------------------------------------------------------------------

    def condition(self, cond: Condition, where: str, info: EventTableInfo | None, alias: str) -> exp.Expr:
        """``cond`` as SQL; inside a branch when ``info`` is given, else in the outer scope."""
        planned = self.planned.get(id(cond))
        if planned is not None and planned.prop is not None:  # the plan's property (its column)
            prop = planned.prop
            self.check_read(prop, f"{where} > property")
        else:
            prop = self.resolve(cond.property, f"{where} > property")
        if info is not None and prop.source == EVENT_PROPERTY:
            column = self._branch_prop(info, prop, alias)
        else:
            column = self.prop(prop)
        if planned is not None:  # the plan's expression, on this scan's column
            return planned.column_in(column)
        return build_condition(self.c.flavor, column, prop, cond, where)

    # -- building ------------------------------------------------------------------------------------------

    def _joins(self, select: exp.Select, *more: exp.Expr) -> exp.Select:
        joins = dict(self.user_joins)
        unit = self.c.unit.prop
        if unit is not None and unit.user_table is not None and unit.user_table not in joins:
            alias = f"u{unit.user_table}"
            if any(c.table == alias for node in (select, *more) for c in node.find_all(exp.Column)):
                joins[unit.user_table] = alias  # the query's unit id is read: join its user table
        if not joins:
            return select
        assert self.users is not None, "the plan joins the user tables its rows read"
        return self.users.join(select, joins, self.user_id())

    def _union_table(self, bounds: TimeBounds) -> exp.Expr:
        """``(SELECT user, local time, name, props FROM t1 WHERE ... UNION ALL ...) AS e``."""
        branches: list[exp.Select] = []
        for info in self.tables:
            outputs: list[exp.Expr] = [
                exp.column(info.spec.user_id, table="t", quoted=True).as_("_u"),
                self._branch_local_time(info, "t").as_("_lt"),
                self._branch_event_name(info, "t").as_("_e"),
            ]
            if self.occurrence is not None:
                outputs.append(self._branch_utc_time(info, "t").as_("_ut"))
            for column, slot in self._prop_slots.items():
                prop = ResolvedProperty(column, EVENT_PROPERTY, column, "")
                outputs.append(self._branch_prop(info, prop, "t").as_(slot))
            branch = exp.select(*outputs, copy=False).from_(info.ref.expression(alias="t"), copy=False)
            condition = and_all(self._branch_filters(info, "t", bounds))
            branches.append(branch.where(condition, copy=False) if condition is not None else branch)
        union: exp.Expr = branches[0]
        for branch in branches[1:]:
            union = exp.union(union, branch, distinct=False, copy=False)
        return exp.Subquery(this=union, alias=exp.TableAlias(this=exp.to_identifier("e", quoted=True)))

    def _scan(
        self, outputs: list[exp.Expr], bounds: TimeBounds, distinct: bool, reads: Sequence[exp.Expr] = ()
    ) -> exp.Select:
        """SELECT outputs FROM the table(s) with joins and every filter, for ``bounds``; ``reads``:
        expressions the caller adds later (WHERE, GROUP BY) whose user tables must be joined too."""
        select = exp.select(*outputs, copy=False)
        if distinct:
            select = select.distinct(copy=False)
        # Outer filters first: they may need property slots the UNION must project, and joins.
        outer = self._outer_filters()
        filters: list[exp.Expr]
        if self.union:
            select = select.from_(self._union_table(bounds), copy=False)
            filters = []
        else:
            info = self.tables[0]
            select = select.from_(info.ref.expression(alias="e"), copy=False)
            filters = self._branch_filters(info, "e", bounds)
        condition = and_all(filters + outer)
        select = self._joins(select, *outer, *reads)
        return select.where(condition, copy=False) if condition is not None else select

    def select_within(self, outputs: list[exp.Expr], bounds: TimeBounds, where: exp.Expr | None) -> exp.Select:
        """The matching events in ``bounds`` (not the source's own: its filters and joins, no
        occurrence) that pass ``where`` too (if any), projected to ``outputs``."""
        assert self.occurrence is None
        if where is None:
            return self._scan(outputs, bounds, False)
        return self._scan(outputs, bounds, False, [where]).where(where, copy=False)

    def select(self, outputs: list[exp.Expr], distinct: bool = False, reads: Sequence[exp.Expr] = ()) -> exp.Select:
        """The matching events (first/last occurrence applied) projected to ``outputs``; ``reads``:
        what the caller adds later (WHERE, GROUP BY) that may need a user table joined."""
        if self.occurrence is None:
            return self._scan(outputs, self.bounds, distinct, reads)
        # Rank each user's matching events by time over the occurrence window, keep rank 1,
        # then apply the series' own range. The inner scan's rows are the alias ``e`` again.
        assert self.occurrence_bounds is not None and self.tf is not None
        order = exp.Ordered(this=self.utc_time(), desc=self.occurrence == "last")
        rank = exp.Window(this=exp.Rank(), partition_by=[self.user()], order=exp.Order(expressions=[order]))
        everything = exp.Column(this=exp.Star(), table=exp.to_identifier("e", quoted=True))
        inner = self._scan([everything, rank.as_(OCCURRENCE_COLUMN)], self.occurrence_bounds, distinct=False)
        inner = inner.where(exp.Not(this=exp.Is(this=self.user(), expression=exp.Null())), copy=False)
        select = exp.select(*outputs, copy=False)
        if distinct:
            select = select.distinct(copy=False)
        derived = exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("e", quoted=True)))
        select = self._joins(select.from_(derived, copy=False), *reads)
        flavor = self.c.flavor
        local = self.local_time()
        keep = [
            exp.EQ(this=self._col(OCCURRENCE_COLUMN), expression=exp.Literal.number(1)),
            exp.GTE(this=local, expression=flavor.timestamp_literal(ts_text(self.tf.start), False)),
            exp.LT(this=local.copy(), expression=flavor.timestamp_literal(ts_text(self.tf.end), False)),
        ]
        return select.where(and_all(keep), copy=False)
