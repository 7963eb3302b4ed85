"""Retention with ``windows: rolling``: period k >= 1 is a return event in [t0 + k·P, t0 + (k+1)·P)
("on"), or at or after t0 + k·P (``cumulative``), where P is one grain of elapsed time (an hour,
24 hours, 7 x 24 hours) and t0 the unit's cohort entry: first_time its first start event ever,
recurring its first start event in the cohort's bucket. Times are whole microseconds since 1970
(``flavor.epoch_micros`` of the UTC time): a period is an integer division, exact on every engine.

One statement; the events are read once:

1. ``ru``: per (unit, bucket, P-slot since 1970[, groups]): ``_t`` the earliest start event,
   ``_r0`` / ``_r1`` the earliest and latest return events. A slot is P long, so the periods its
   returns fall in (from any t0) are at most two: those of ``_r0`` and ``_r1``;
2. ``rk``: the numbered buckets (``segwise.retention_frame``, as calendar retention);
3. ``rc``: the cohorts (unit, cohort number, groups, t0): first_time each unit's earliest start
   (``MIN(_t) OVER (PARTITION BY unit)``) kept when inside the range, recurring the earliest start
   of each bucket;
4. ``rr``: the units' return slots; ``rp`` each (unit, cohort) once per period 1..P it returned in
   ("on"), or each unit's latest return period capped at P ("on or after": shaping sums the periods
   from k on); period 0 is the cohort's size. No series of periods is joined with events.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlglot import exp

from segwise.plan_retention import ReturnPeriods

from .retention import _col, _counted, _num, _sizes, calendar_rows, numbered_buckets, reading, retention_select
from .retention_first import first_time_select
from .retention_groups import join_late, pick_entries
from .retention_scan import reduced
from .rows import table_ref

if TYPE_CHECKING:
    from segwise.plan import AnalysisNode
    from segwise.timeframe import Timeframe

    from .state import Lowering

PERIOD_MICROS = {"hour": 3_600_000_000, "day": 86_400_000_000, "week": 604_800_000_000}
_EPOCH = datetime(1970, 1, 1)


def retention_query(lw: Lowering, node: AnalysisNode) -> exp.Query:
    """The retention statement: rolling periods here, calendar periods in ``retention_select``
    (recurring) and ``retention_first`` (first_time)."""
    if any(isinstance(op, ReturnPeriods) and op.rolling is not None for op in node.operators):
        return rolling_select(lw, node)
    r = calendar_rows(lw, node)
    return first_time_select(lw, r) if r.first else retention_select(lw, r)


def _micros(naive_utc: datetime) -> exp.Expr:
    delta = naive_utc - _EPOCH
    return _num((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)


def _earliest(condition: exp.Expr, micros: exp.Expr, last: bool = False) -> exp.Expr:
    case = exp.Case(ifs=[exp.If(this=condition, true=micros.copy())])
    return exp.Max(this=case) if last else exp.Min(this=case)


def rolling_select(lw: Lowering, node: AnalysisNode) -> exp.Query:
    r = reading(lw, node)
    spec, frame, first, source, local, is_start, is_return, start_at, end_at, groups, names, user, bucket, starts, _ = (
        r.fields()
    )
    scanned = r.scanned
    tf, flavor = node.tf, lw.flavor  # the plan's range
    size = PERIOD_MICROS[lw.bucketing.grain]  # the plan's time key
    micros = flavor.epoch_micros(source.utc_time())
    slot = exp.IntDiv(this=exp.paren(micros.copy()), expression=_num(size))
    history: exp.Expr | None = None  # first_time: the whole history is read for the start events only
    from_start: exp.Expr | None = None  # its time condition
    if first:  # returns from the range's start
        from_start = exp.GTE(this=local.copy(), expression=start_at)
        returned: exp.Expr = from_start.copy()
        if not (isinstance(is_return, exp.Boolean) and is_return.this):
            returned = exp.and_(is_return, returned)
        starting, history = is_start.copy(), returned.copy()
    else:
        returned, starting = is_return, exp.and_(is_start, exp.LT(this=local.copy(), expression=end_at))
    keys: list[tuple[str | None, exp.Expr]] = [("_u", user), ("_b", bucket), *zip(scanned, groups, strict=True)]
    values = [
        ("_t", _earliest(starting, micros)),
        ("_r0", _earliest(returned, micros)),
        ("_r1", _earliest(returned.copy(), micros, last=True)),
    ]
    lw.ctes.append(("ru", reduced(lw, source, is_start, [*keys, (None, slot)], values, history, from_start)))

    numbered_buckets(lw, frame, tf.start)
    cohorts = _cohorts(lw, tf, scanned, first, starts)
    if r.late:  # the user properties joined to the cohorts (one row per member), not to the events
        lw.ctes.append(("rc0", cohorts))
        cohorts = exp.select(
            _col("_u", "rc0").as_("_u"), _col("_c", "rc0").as_("_c"), *r.carried("rc0"), _col("_t", "rc0").as_("_t")
        ).from_(table_ref("rc0"))
        cohorts = join_late(lw, cohorts, r.late, _col("_u", "rc0"))
    lw.ctes.append(("rc", cohorts))
    returns = exp.select(_col("_u", "ru").as_("_u"), _col("_r0", "ru").as_("_r0"), _col("_r1", "ru").as_("_r1"))
    lw.ctes.append(("rr", returns.from_(table_ref("ru")).where(_known(_col("_r0", "ru")))))
    return exp.union(_periods(lw, names, spec.periods, spec.cumulative, size), _sizes(lw, names), distinct=False)


def _known(column: exp.Expr) -> exp.Expr:
    return exp.Not(this=exp.Is(this=column, expression=exp.Null()))


def _cohorts(lw: Lowering, tf: Timeframe, names: list[str], first: bool, starts: list[str]) -> exp.Select:
    """``rc``: (unit, cohort number ``_c``, groups, t0 ``_t``) of the range ``tf``."""
    carried = [_col(n, "ru").as_(n) for n in names]
    if starts:  # the entry (first start ever, or the bucket's first) with its start-event values
        pick_entries(lw, "re", names, starts, per_bucket=not first)
        keep: exp.Expr = exp.EQ(this=_col("_n", "re"), expression=_num(1))
        if first:
            keep = exp.and_(
                keep,
                exp.GTE(this=_col("_t", "re"), expression=_micros(tf.start_utc)),
                exp.LT(this=_col("_t", "re"), expression=_micros(tf.end_utc)),
            )
        columns = [_col(c, "re").as_(c) for c in ("_u", *names, "_t")]
        return (
            exp.select(*columns[:1], _col("_k", "rk").as_("_c"), *columns[1:])
            .from_(table_ref("re"))
            .join(table_ref("rk"), on=exp.EQ(this=_col("_b", "re"), expression=_col("_lo", "rk")))
            .where(keep)
        )
    if first:
        earliest = exp.Window(
            this=exp.Min(this=_col("_t", "ru")), partition_by=[_col("_u", "ru"), *[_col(n, "ru") for n in names]]
        )
        firsts = exp.select(
            _col("_u", "ru").as_("_u"),
            _col("_b", "ru").as_("_b"),
            *carried,
            _col("_t", "ru").as_("_t"),
            earliest.as_("_m"),
        )
        lw.ctes.append(("rf", firsts.from_(table_ref("ru")).where(_known(_col("_t", "ru")))))
        keep = exp.and_(
            exp.EQ(this=_col("_t", "rf"), expression=_col("_m", "rf")),
            exp.GTE(this=_col("_t", "rf"), expression=_micros(tf.start_utc)),
            exp.LT(this=_col("_t", "rf"), expression=_micros(tf.end_utc)),
        )
        return (
            exp.select(
                _col("_u", "rf").as_("_u"),
                _col("_k", "rk").as_("_c"),
                *[_col(n, "rf").as_(n) for n in names],
                _col("_t", "rf").as_("_t"),
            )
            .from_(table_ref("rf"))
            .join(table_ref("rk"), on=exp.EQ(this=_col("_b", "rf"), expression=_col("_lo", "rk")))
            .where(keep)
        )
    return (
        exp.select(
            _col("_u", "ru").as_("_u"), _col("_k", "rk").as_("_c"), *carried, exp.Min(this=_col("_t", "ru")).as_("_t")
        )
        .from_(table_ref("ru"))
        .join(table_ref("rk"), on=exp.EQ(this=_col("_b", "ru"), expression=_col("_lo", "rk")))
        .where(_known(_col("_t", "ru")))
        .group_by(_col("_u", "ru"), _col("_k", "rk"), *[_col(n, "ru") for n in names])
    )


def _after(time: exp.Expr, size: int) -> exp.Expr:
    """The number of whole periods from t0 to ``time`` (``time`` is at least one period after t0)."""
    return exp.IntDiv(this=exp.paren(exp.Sub(this=time, expression=_col("_t", "c"))), expression=_num(size))


def _periods(lw: Lowering, names: list[str], periods: int, cumulative: bool, size: int) -> exp.Select:
    """Periods 1..P: each (unit, cohort) once per period it returned in ("on"), or once at its
    latest return period capped at P ("on or after", summed in shaping)."""
    cohort = [_col("_u", "c").as_("_u"), _col("_c", "c").as_("_c"), *[_col(n, "c").as_(n) for n in names]]
    first_period = exp.Add(this=_col("_t", "c"), expression=_num(size))
    rc = exp.alias_(table_ref("rc"), "c", table=True)
    if cumulative:
        last = exp.select(_col("_u", "rr").as_("_u"), exp.Max(this=_col("_r1", "rr")).as_("_x"))
        lw.ctes.append(("rm", last.from_(table_ref("rr")).group_by(_col("_u", "rr"))))
        gap = _after(_col("_x", "r"), size)
        capped = exp.Case(ifs=[exp.If(this=exp.GT(this=gap, expression=_num(periods)), true=_num(periods))])
        parts = [
            exp.select(*cohort, capped.else_(gap.copy()).as_("_p"))
            .from_(rc)
            .join(
                exp.alias_(table_ref("rm"), "r", table=True),
                on=exp.EQ(this=_col("_u", "r"), expression=_col("_u", "c")),
            )
            .where(exp.GTE(this=_col("_x", "r"), expression=first_period))
        ]
    else:
        beyond = exp.Add(this=_col("_t", "c"), expression=_num(size * (periods + 1)))
        parts = [
            exp.select(*[e.copy() for e in cohort], _after(_col(end, "r"), size).as_("_p"))
            .from_(rc.copy())
            .join(
                exp.alias_(table_ref("rr"), "r", table=True),
                on=exp.EQ(this=_col("_u", "r"), expression=_col("_u", "c")),
            )
            .where(
                exp.and_(
                    exp.GTE(this=_col(end, "r"), expression=first_period.copy()),
                    exp.LT(this=_col(end, "r"), expression=beyond.copy()),
                )
            )
            for end in ("_r0", "_r1")
        ]
    hits: exp.Query = parts[0] if len(parts) == 1 else exp.union(*parts, distinct=True)
    lw.ctes.append(("rp", hits))
    select = exp.select(exp.Star()).from_(exp.alias_(table_ref("rp"), "c", table=True))
    return _counted(select, lw, names, _col("_p", "c"))
