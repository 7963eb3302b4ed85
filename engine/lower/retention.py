"""Retention: of the units that entered a cohort in a bucket, how many came back in each later
period (calendar periods: the buckets of the grain after the cohort's).

One statement; the events are read once (start and return events in one scan, up to now):

1. ``ru``: per (unit, bucket[, groups]) of the scan: ``_s`` (a start event inside the range),
   ``_r`` (a return event from the range's start) and, first_time or with a breakdown by the start
   event's properties, ``_t`` (the earliest start event, local time);
2. ``rk``: the buckets numbered, the range's first 0 (a constant table, ``segwise.retention_frame``:
   the same list shaping reads; no date arithmetic in the warehouse, DST and week start as every
   analysis buckets);

first_time (one cohort per unit) continues in ``retention_first``: windows over ``ru``, no join.
Recurring:

3. ``rc``: the cohorts, one row per (unit, cohort number): every numbered bucket with a start
   event (with start-event values: its earliest start event's, ``retention_groups``);
4. ``rr``: the unit's return buckets by number (after the numbered ones: one number beyond every
   reported period);
5. units per (cohort, groups, period): a join of ``rc`` and ``rr`` on the unit with the period in
   1..P ("on"), or each unit's last return bucket capped at P ("on or after": shaping sums the
   periods from k on); period 0 is the cohort's size. No series of periods is joined with events.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from segwise.plan_retention import Cohorts, ReturnPeriods
from segwise.query import ANY_EVENT
from segwise.timeframe import ts_text

from .retention_groups import at_start, join_late, late_groups, pick_entries, start_groups
from .retention_scan import fixed_offset, reduced
from .rows import and_all, table_ref
from .series import analysis_source, segmented_groups

if TYPE_CHECKING:
    from datetime import datetime

    from segwise.plan import AnalysisNode
    from segwise.query import EventFilter
    from segwise.retention_frame import RetentionFrame

    from .rows import RowSource
    from .state import Lowering


def _col(name: str, table: str) -> exp.Column:
    return exp.column(name, table=table)


def _num(value: int) -> exp.Expr:
    return exp.Literal.number(value)


def _matches(source: RowSource, members: tuple[EventFilter, ...], location: str) -> exp.Expr:
    """A row of ``source`` is one of ``members`` (its event name and its filters), in the outer scope."""
    parts: list[exp.Expr] = []
    for m_index, member in enumerate(members):
        terms: list[exp.Expr] = []
        if member.event != ANY_EVENT:
            terms.append(exp.EQ(this=source.event_name(), expression=exp.Literal.string(member.event)))
        terms += [
            source.condition(cond, f"{location} > event > any_of[{m_index}] > where[{c_index}]", None, "e")
            for c_index, cond in enumerate(member.where)
        ]
        condition = and_all(terms)
        if condition is None:  # this member is every event
            return exp.true()
        parts.append(condition)
    return exp.paren(exp.or_(*parts, copy=False), copy=False) if len(parts) > 1 else parts[0]


def _flag(condition: exp.Expr) -> exp.Expr:
    if isinstance(condition, exp.Boolean) and condition.this:  # every event
        return _num(1)
    return exp.Max(this=exp.Case(ifs=[exp.If(this=condition, true=_num(1))], default=_num(0)))


@dataclass
class Reading:
    """What both retention forms (calendar here, rolling in ``retention_rolling``) read: the
    events' source (start events over the whole history for first_time, else from the range's
    start, up to now), the start/return tests, the range's ends and the groups."""

    spec: ReturnPeriods  # the plan's periods: how many, cumulative, rolling
    frame: RetentionFrame
    first: bool
    source: RowSource
    local: exp.Expr
    is_start: exp.Expr
    is_return: exp.Expr
    start_at: exp.Expr
    end_at: exp.Expr
    groups: list[exp.Expr]
    names: list[str]
    user: exp.Expr
    bucket: exp.Expr
    starts: list[str]  # the groups that are the start event's values (``retention_groups``)
    late: dict[str, exp.Expr]  # the groups joined after the reduction (user properties), by name

    @property
    def scanned(self) -> list[str]:
        """The names of the groups read by the scan (``groups``), in order."""
        return [n for n in self.names if n not in self.late]

    def carried(self, table: str) -> list[exp.Expr]:
        """Every group as a column ``_g<j>``: from ``table``, or the user table joined late."""
        return [(self.late[n].copy() if n in self.late else _col(n, table)).as_(n) for n in self.names]

    def fields(self) -> tuple[Any, ...]:
        """The fields in order, to unpack."""
        return tuple(getattr(self, f.name) for f in dataclasses.fields(self))


def reading(lw: Lowering, node: AnalysisNode) -> Reading:
    cohorts = next(op for op in node.operators if isinstance(op, Cohorts))
    spec = next(op for op in node.operators if isinstance(op, ReturnPeriods))
    tf, flavor = node.tf, lw.flavor  # the plan's range
    frame = spec.frame  # the plan's numbered buckets
    first = cohorts.mode == "first_time"
    # the plan's time range: [-inf or start, now)
    source = analysis_source(lw, node, cohorts.events, cohorts.start, cohorts.returning)
    local = source.local_time()
    is_start = _matches(source, cohorts.start.members, "retention > start")
    is_return = _matches(source, cohorts.returning.members, "retention > return")
    start_at = flavor.timestamp_literal(ts_text(tf.start), False)
    end_at = flavor.timestamp_literal(ts_text(tf.end), False)
    starting = is_start if first else exp.and_(is_start, exp.LT(this=local.copy(), expression=end_at))
    positions, late = start_groups(lw), late_groups(lw)
    positions_all = [key.position for key in lw.groups.keys]  # the plan's group-by keys, in order
    scanned = [j for j in positions_all if j not in late]
    groups = segmented_groups(lw, source, late)
    groups = [at_start(g, starting) if j in positions else g for j, g in zip(scanned, groups, strict=True)]
    names = [f"_g{j}" for j in positions_all]
    return Reading(
        spec,
        frame,
        first,
        source,
        local,
        is_start,
        is_return,
        start_at,
        end_at,
        groups,
        names,
        source.user(),
        source.bucket(),
        [f"_g{j}" for j in sorted(positions)],
        {f"_g{j}": e for j, e in late.items()},
    )


def calendar_rows(lw: Lowering, node: AnalysisNode) -> Reading:
    """The CTEs ``ru`` (the events reduced per unit, bucket and groups) and ``rk`` (the numbered
    buckets) of calendar periods."""
    r = reading(lw, node)
    _, frame, first, source, local, is_start, is_return, start_at, end_at, groups, _, user, bucket, starts, _ = (
        r.fields()
    )
    keys: list[tuple[str | None, exp.Expr]] = [("_u", user), ("_b", bucket), *zip(r.scanned, groups, strict=True)]
    returned: exp.Expr | None = None
    from_start: exp.Expr | None = None
    if first:  # the earliest start event of each (unit, bucket); the range is checked per unit below
        first_start = exp.Min(this=exp.Case(ifs=[exp.If(this=is_start.copy(), true=local.copy())]))
        from_start = exp.GTE(this=local.copy(), expression=start_at)
        returned = from_start.copy()
        if not isinstance(is_return, exp.Boolean):  # not every event
            returned = exp.and_(is_return, returned)
        values = [("_t", first_start), ("_r", _flag(returned.copy()))]
    else:
        starting = exp.and_(is_start, exp.LT(this=local.copy(), expression=end_at))
        if starts:  # the earliest start of each value: the bucket's entry is picked below
            values = [("_t", exp.Min(this=exp.Case(ifs=[exp.If(this=starting, true=local.copy())])))]
        elif same_events(r) and _before_end(lw, source):  # every row read is a start inside the range
            values = [("_s", _num(1))]
        else:
            values = [("_s", _flag(starting))]
        if not same_events(r):  # else every row read is a return
            values.append(("_r", _flag(is_return)))
    # first_time: the start events of the whole history and the returns from the range's start
    lw.ctes.append(("ru", reduced(lw, source, is_start, keys, values, returned, from_start, returns=("_r",))))

    numbered_buckets(lw, frame, node.tf.start)
    return r


def _before_end(lw: Lowering, source: RowSource) -> bool:
    """The scan reads no event at or after the range's end (now is at or before it), and the zone
    keeps its offset around that end: every row read is before the end in local time too."""
    end, range_end = source.bounds.end_utc, lw.analysis_range.end_utc  # the plan's range
    return end is not None and end <= range_end and fixed_offset(lw, range_end)


def numbered_buckets(lw: Lowering, frame: RetentionFrame, start: datetime) -> None:
    """``rk``: the numbered buckets (``_k``, ``_lo``), a constant table (none: one row numbered -1
    at the range's local ``start``)."""
    literal = lw.flavor.timestamp_literal
    numbered = [exp.Tuple(expressions=[_num(k), literal(ts_text(b), False)]) for k, b in enumerate(frame.buckets)]
    if not numbered:  # the range starts after now: no bucket, no cohort
        numbered = [exp.Tuple(expressions=[_num(-1), literal(ts_text(start), False)])]
    lw.ctes.append(("rk", lw.flavor.values_table(numbered, ["_k", "_lo"])))


def retention_select(lw: Lowering, r: Reading) -> exp.Query:
    """Recurring cohorts, calendar periods (``calendar_rows`` made ``ru`` and ``rk``): ``rc`` the
    cohorts, ``rr`` the return buckets, joined on the unit."""
    spec, frame, names, starts = r.spec, r.frame, r.names, r.starts
    if same_events(r):
        return _same_select(lw, r)
    if starts:  # each bucket's entry: its earliest start event (and value)
        pick_entries(lw, "re", r.scanned, starts, per_bucket=True)
    table, entry = ("re", _col("_n", "re")) if starts else ("ru", _col("_s", "ru"))
    cohorts = (
        exp.select(_col("_u", table).as_("_u"), _col("_k", "rk").as_("_c"), *r.carried(table))
        .from_(table_ref(table))
        .join(table_ref("rk"), on=exp.EQ(this=_col("_b", table), expression=_col("_lo", "rk")))
        .where(exp.EQ(this=entry, expression=_num(1)))
    )
    lw.ctes.append(("rc", join_late(lw, cohorts, r.late, _col("_u", table))))
    number = exp.Coalesce(this=_col("_k", "rk"), expressions=[_num(frame.beyond)])
    returns = (
        exp.select(_col("_u", "ru").as_("_u"), number.as_("_k"))
        .from_(table_ref("ru"))
        .join(table_ref("rk"), on=exp.EQ(this=_col("_b", "ru"), expression=_col("_lo", "rk")), join_type="left")
        .where(exp.EQ(this=_col("_r", "ru"), expression=_num(1)))
    )
    lw.ctes.append(("rr", returns.distinct() if starts else returns))  # with start values: a row per value
    return exp.union(_returned(lw, names, spec.periods, spec.cumulative), _sizes(lw, names), distinct=False)


def same_events(r: Reading) -> bool:
    """Recurring "on" periods where every row read is a start and a return event (the same events
    and filters) and no group is read by the scan (``ru``: one row per unit and bucket)."""
    return not r.first and not r.scanned and not r.spec.cumulative and r.is_start == r.is_return


def _same_select(lw: Lowering, r: Reading) -> exp.Select:
    """``same_events``: ``rq`` the unit's numbered buckets, joined with itself on the unit; a row
    with a start event counts its own bucket (period 0: the cohort's size, no second read) and each
    of the unit's buckets 1..P after it."""
    numbered = exp.select(_col("_u", "ru").as_("_u"), _col("_k", "rk").as_("_k"), _col("_s", "ru").as_("_s"))
    on = exp.EQ(this=_col("_b", "ru"), expression=_col("_lo", "rk"))
    lw.ctes.append(("rq", numbered.from_(table_ref("ru")).join(table_ref("rk"), on=on)))
    cohort, later = _col("_k", "c"), _col("_k", "r")
    keep = exp.and_(
        exp.EQ(this=_col("_s", "c"), expression=_num(1)),
        exp.GTE(this=later.copy(), expression=cohort.copy()),
        exp.LTE(this=later.copy(), expression=exp.Add(this=cohort.copy(), expression=_num(r.spec.periods))),
    )
    select = (
        exp.select(exp.Star())
        .from_(exp.alias_(table_ref("rq"), "c", table=True))
        .join(exp.alias_(table_ref("rq"), "r", table=True), on=exp.EQ(this=_col("_u", "r"), expression=_col("_u", "c")))
        .where(keep)
    )
    return _counted(select, lw, r.names, exp.Sub(this=later, expression=cohort.copy()), cohort, "c", late=r.late)


def _counted(
    select: exp.Select,
    lw: Lowering,
    names: list[str],
    period: exp.Expr,
    cohort: exp.Expr | None = None,
    table: str = "c",
    distinct: bool = False,
    late: dict[str, exp.Expr] | None = None,
) -> exp.Select:
    """``select`` (over ``rc`` as ``c``, or ``table`` with the cohort number ``cohort``) counted
    per (cohort, groups, ``period``): rows, or ``distinct`` units; ``late``: groups read from
    user tables joined here (``retention_groups.join_late``)."""
    cohort = _col("_c", "c") if cohort is None else cohort
    counted = exp.Count(this=exp.Distinct(expressions=[_col("_u", table)]) if distinct else exp.Star())
    groups = [(late or {}).get(n, _col(n, table)) for n in names]
    outputs = [
        lw.flavor.as_bigint(cohort.copy()).as_("_c"),
        *[g.copy().as_(n) for g, n in zip(groups, names, strict=True)],
        lw.flavor.as_bigint(period).as_("_p"),
        lw.flavor.as_bigint(counted).as_("_n"),
    ]
    select.set("expressions", outputs)
    if late:
        select = join_late(lw, select, late, _col("_u", table))
    by: list[exp.Expr] = [cohort.copy(), *[g.copy() for g in groups]]
    if not isinstance(period, exp.Literal):  # a constant is no grouping key (and a position in some dialects)
        by.append(period.copy())
    return select.group_by(*by, copy=False)


def _sizes(lw: Lowering, names: list[str]) -> exp.Select:
    """Period 0: each cohort's size."""
    return _counted(exp.select(exp.Star()).from_(exp.alias_(table_ref("rc"), "c", table=True)), lw, names, _num(0))


def _returned(lw: Lowering, names: list[str], periods: int, cumulative: bool) -> exp.Select:
    """Periods 1..P: units with a return bucket ``period`` after their cohort's ("on"), or whose
    last return bucket is ``period`` after it (capped at P: "on or after", summed in shaping)."""
    cohort = _col("_c", "c")
    if cumulative:
        last = exp.select(_col("_u", "rr").as_("_u"), exp.Max(this=_col("_k", "rr")).as_("_k"))
        lw.ctes.append(("rm", last.from_(table_ref("rr")).group_by(_col("_u", "rr"))))
        period: exp.Expr = capped(exp.Sub(this=_col("_k", "r"), expression=cohort.copy()), periods)
        other = "rm"
        keep: exp.Expr = exp.GT(this=_col("_k", "r"), expression=cohort.copy())
    else:
        period = exp.Sub(this=_col("_k", "r"), expression=cohort.copy())
        other = "rr"
        keep = exp.and_(
            exp.GT(this=_col("_k", "r"), expression=cohort.copy()),
            exp.LTE(this=_col("_k", "r"), expression=exp.Add(this=cohort.copy(), expression=_num(periods))),
        )
    select = (
        exp.select(exp.Star())
        .from_(exp.alias_(table_ref("rc"), "c", table=True))
        .join(
            exp.alias_(table_ref(other), "r", table=True), on=exp.EQ(this=_col("_u", "r"), expression=_col("_u", "c"))
        )
        .where(keep)
    )
    return _counted(select, lw, names, period)


def capped(gap: exp.Expr, periods: int) -> exp.Expr:
    """``gap``, at most ``periods`` (a last return later than period P counts in P: "on or after")."""
    case = exp.Case(ifs=[exp.If(this=exp.GT(this=gap, expression=_num(periods)), true=_num(periods))])
    return case.else_(gap.copy())
