"""First-time retention with calendar periods (docs/queries.md, "Retention"). Each unit has one
cohort — the bucket of its first start event ever, when that event is inside the range — so its
return periods are counted from its own rows of ``ru`` (``segwise.lower.retention``: one row per
unit, bucket and groups) with windows over the unit, and no join between cohorts and returns (a
join PostgreSQL planned as a nested loop from a one-row estimate of the cohorts, 50x slower).

``rw``: every row of ``ru`` with, per unit (and its groups of the unit), ``_m`` the time of its
first start event (local), ``_cb`` that event's bucket, with a breakdown by the start event's
properties its values (``retention_groups``: the entry row numbered 1 in ``rn``), and for "on or
after" ``_x`` its last return bucket. These are windows over the unit's rows; where a join is
cheaper (``Capabilities.per_unit_windows`` false: DuckDB ...; on PostgreSQL too with start-event
values and no user property) and the groups are the unit's own,
``rf`` aggregates them per unit (only units whose entry is inside the range) and ``rw`` is ``ru``
joined with it on the unit. Then:

- "on": one read of ``rw``; each row counts at most once: the entry row at period 0, a row with a
  return event at its bucket's number minus the cohort's when that is in 1..P;
- "on or after": the entry row at period 0 and at its last return's period capped at P (shaping
  sums the periods from k on), two reads of ``rw``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from .retention import _col, _counted, _num, capped
from .retention_groups import entry_order, join_late, pick_entries, plan_cohorts
from .rows import table_ref

if TYPE_CHECKING:
    from .retention import Reading
    from .state import Lowering


def _when(condition: exp.Expr, value: exp.Expr) -> exp.Expr:
    return exp.Case(ifs=[exp.If(this=condition, true=value)])


def _known(column: exp.Expr) -> exp.Expr:
    return exp.Not(this=exp.Is(this=column, expression=exp.Null()))


def _joined(lw: Lowering, r: Reading) -> exp.Expr:
    """The CTEs ``rf`` (per unit entering inside the range: its entry time, bucket, last return
    bucket, start-event values) and ``rw`` (``ru`` joined with it); returns the test of a unit's
    entry row (with start-event values, one per value of the entry's bucket)."""
    returned = exp.EQ(this=_col("_r", "ru"), expression=_num(1))
    last = exp.Max(this=_when(returned, _col("_b", "ru"))).as_("_x")
    if r.starts:  # the entry row numbered 1 (earliest start, smallest values); the last return apart
        pick_entries(lw, "re", r.scanned, r.starts, per_bucket=False)
        inside = exp.and_(
            exp.EQ(this=_col("_n", "re"), expression=_num(1)),
            exp.GTE(this=_col("_t", "re"), expression=r.start_at.copy()),
            exp.LT(this=_col("_t", "re"), expression=r.end_at.copy()),
        )
        outputs = [_col("_u", "re").as_("_u"), _col("_t", "re").as_("_m"), _col("_b", "re").as_("_cb")]
        entries = exp.select(*outputs, *[_col(n, "re").as_(n) for n in r.starts]).from_(table_ref("re"))
        if r.spec.cumulative:
            most = exp.select(_col("_u", "ru").as_("_u"), last).from_(table_ref("ru"))
            lw.ctes.append(("rx", most.group_by(_col("_u", "ru"))))
            entries = entries.select(_col("_x", "rx").as_("_x")).join(
                table_ref("rx"), on=exp.EQ(this=_col("_u", "rx"), expression=_col("_u", "re"))
            )
        lw.ctes.append(("rf", entries.where(inside)))
    else:
        aggregates = [
            exp.Min(this=_col("_t", "ru")).as_("_m"),
            exp.Min(this=_when(_known(_col("_t", "ru")), _col("_b", "ru"))).as_("_cb"),
            *([last] if r.spec.cumulative else []),
        ]
        first = exp.Min(this=_col("_t", "ru"))
        inside = exp.and_(
            exp.GTE(this=first, expression=r.start_at.copy()), exp.LT(this=first.copy(), expression=r.end_at.copy())
        )
        entries = exp.select(_col("_u", "ru").as_("_u"), *aggregates).from_(table_ref("ru")).group_by(_col("_u", "ru"))
        lw.ctes.append(("rf", entries.having(inside)))
    per_unit = ["_m", "_cb", *r.starts, *(["_x"] if r.spec.cumulative else [])]
    own = [n for n in r.scanned if n not in r.starts]
    rows = exp.select(
        *[_col(c, "ru").as_(c) for c in ("_u", "_b", *own, "_r")], *[_col(c, "rf").as_(c) for c in per_unit]
    ).from_(table_ref("ru"))
    lw.ctes.append(("rw", rows.join(table_ref("rf"), on=exp.EQ(this=_col("_u", "rf"), expression=_col("_u", "ru")))))
    return exp.EQ(this=_col("_b", "rw"), expression=_col("_cb", "rw"))


def _windowed(lw: Lowering, r: Reading) -> exp.Expr:
    """The CTE ``rw``; returns the test of a unit's entry row (on ``rw``). User properties
    (``r.late``) are joined here, to ``ru``'s rows, not to the counted rows: PostgreSQL estimates
    the filter on the windows' values at a few rows and joined the users table to them by a nested
    loop reading the whole table per row (quadratic: 31 s at 1M events, never done at 10M)."""
    starts = r.starts
    source = "rn" if starts else "ru"
    units = ["_u", *[n for n in r.scanned if n not in starts]]
    key = [_col(c, source) for c in units]

    def over(aggregate: exp.Expr) -> exp.Expr:
        return exp.Window(this=aggregate, partition_by=[k.copy() for k in key])

    outputs: list[exp.Expr] = [_col(c, source).as_(c) for c in ("_u", "_b", *r.scanned, "_r") if c not in starts]
    if starts:  # the entry: the row numbered 1 (earliest start, smallest values)
        number = exp.Window(
            this=exp.RowNumber(), partition_by=[_col(c, "ru") for c in units], order=entry_order(lw, "ru", starts)
        )
        columns = [_col(c, "ru").as_(c) for c in ("_u", "_b", *r.scanned, "_t", "_r")]
        lw.ctes.append(("rn", exp.select(*columns, number.as_("_n")).from_(table_ref("ru"))))
        entry = exp.EQ(this=_col("_n", "rn"), expression=_num(1))
        outputs += [over(exp.Max(this=_when(entry.copy(), _col(c, "rn")))).as_(c) for c in starts]
        outputs += [
            over(exp.Max(this=_when(entry.copy(), _col("_t", "rn")))).as_("_m"),
            over(exp.Max(this=_when(entry.copy(), _col("_b", "rn")))).as_("_cb"),
            exp.Case(ifs=[exp.If(this=entry.copy(), true=_num(1))], default=_num(0)).as_("_o"),
        ]
        is_entry: exp.Expr = exp.EQ(this=_col("_o", "rw"), expression=_num(1))
    else:  # the earliest start; its bucket is the earliest bucket with a start
        outputs += [
            over(exp.Min(this=_col("_t", "ru"))).as_("_m"),
            over(exp.Min(this=_when(_known(_col("_t", "ru")), _col("_b", "ru")))).as_("_cb"),
        ]
        is_entry = exp.EQ(this=_col("_b", "rw"), expression=_col("_cb", "rw"))
    if r.spec.cumulative:
        returned = exp.EQ(this=_col("_r", source), expression=_num(1))
        outputs.append(over(exp.Max(this=_when(returned, _col("_b", source)))).as_("_x"))
    outputs += [e.copy().as_(n) for n, e in r.late.items()]
    rows = join_late(lw, exp.select(*outputs).from_(table_ref(source)), r.late, _col("_u", source))
    lw.ctes.append(("rw", rows))
    return is_entry


def first_time_select(lw: Lowering, r: Reading) -> exp.Query:
    """Units per (cohort, groups, period) of first-time cohorts, calendar periods."""
    # the plan's choice: windows over the unit's rows where the dialect prefers them (not on
    # PostgreSQL with start-event values and no user table), or where a unit other than the user
    # has groups of its own (segment, categories); else joined back
    join = not plan_cohorts(lw).windows
    is_entry = _joined(lw, r) if join else _windowed(lw, r)
    late = r.late if join else {}  # the windowed rows carry the user properties
    periods, beyond = r.spec.periods, r.frame.beyond
    in_range = exp.and_(
        exp.GTE(this=_col("_m", "rw"), expression=r.start_at.copy()),
        exp.LT(this=_col("_m", "rw"), expression=r.end_at.copy()),
    )
    cohort = _col("_k", "c")

    def cohorts() -> exp.Select:
        """``rw`` with its cohort's number (``c._k``)."""
        on = exp.EQ(this=_col("_lo", "c"), expression=_col("_cb", "rw"))
        return exp.select(exp.Star()).from_(table_ref("rw")).join(exp.alias_(table_ref("rk"), "c", table=True), on=on)

    def rows(other: str, on: str) -> exp.Select:
        """``cohorts()`` with the number of the bucket ``on`` (as ``other``)."""
        number = exp.EQ(this=_col("_lo", other), expression=_col(on, "rw"))
        return cohorts().join(exp.alias_(table_ref("rk"), other, table=True), on=number, join_type="left")

    def gap(other: str) -> exp.Expr:
        return exp.Sub(this=exp.Coalesce(this=_col("_k", other), expressions=[_num(beyond)]), expression=cohort.copy())

    distinct = bool(r.starts)  # rows of one bucket per start value: count each unit once
    if not r.spec.cumulative:
        period = exp.Case(ifs=[exp.If(this=is_entry.copy(), true=_num(0))], default=gap("p"))
        returned = exp.and_(
            exp.EQ(this=_col("_r", "rw"), expression=_num(1)),
            exp.GTE(this=gap("p"), expression=_num(1)),
            exp.LTE(this=gap("p"), expression=_num(periods)),
        )
        select = rows("p", "_b").where(exp.and_(in_range, exp.paren(exp.or_(is_entry.copy(), returned))))
        return _counted(select, lw, r.names, period, cohort, "rw", distinct, late)
    entries = exp.and_(in_range, is_entry)
    last = rows("x", "_x").where(
        exp.and_(entries.copy(), _known(_col("_x", "rw")), exp.GT(this=gap("x"), expression=_num(0)))
    )
    return exp.union(
        _counted(last, lw, r.names, capped(gap("x"), periods), cohort, "rw", distinct, late),
        _counted(cohorts().where(entries), lw, r.names, _num(0), cohort.copy(), "rw", distinct, late),
        distinct=False,
    )
