"""The funnel's matching (see ``segwise.lower.funnel``): the window pass over each unit's
time-ordered rows, the attempts followed step by step (ordered) or counted (any order), and each
unit's best attempt per bucket and group."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlglot import exp

from . import topn
from .rows import table_ref

if TYPE_CHECKING:
    from segwise.plan_funnel import StepMatch

    from .state import Lowering

_EPOCH = datetime(1970, 1, 1)


@dataclass
class Columns:
    """The names the funnel's CTEs carry."""

    groups: list[str]
    held: list[str]
    steps: int
    exclusions: int
    bucket: bool  # an entry bucket column ``_b`` (the grain is not total)

    @property
    def keys(self) -> list[str]:
        """What an attempt carries from its first row: unit, held values, bucket, groups."""
        return ["_u", *self.held, *(["_b"] if self.bucket else []), *self.groups]


def micros(value: datetime | timedelta) -> exp.Expr:
    """A UTC instant or a duration as whole microseconds (a literal)."""
    delta = value - _EPOCH if isinstance(value, datetime) else value
    return exp.Literal.number(delta // timedelta(microseconds=1))


def _col(name: str, table: str) -> exp.Column:
    return exp.column(name, table=table)


def _flag_time(flag: str) -> exp.Expr:
    """The row's time when it has ``flag`` (a step or an exclusion), else NULL."""
    hit = exp.EQ(this=_col(flag, "fe"), expression=exp.Literal.number(1))
    return exp.Case(ifs=[exp.If(this=hit, true=_col("_t", "fe"))])


def _earliest_from(flag: str, partition: list[str], strictly_later: bool) -> exp.Window:
    """The earliest time with ``flag`` strictly after (or at or after) each row, per partition.
    Ordered by time descending the frame starts at the partition's start, so every engine keeps
    a running minimum instead of recomputing a moving frame."""
    end: exp.Expr | str = exp.Literal.number(1) if strictly_later else "CURRENT ROW"
    frame = exp.WindowSpec(
        kind="RANGE",
        start="UNBOUNDED",
        start_side="PRECEDING",
        end=end,
        end_side="PRECEDING" if strictly_later else None,
    )
    return exp.Window(
        this=exp.Min(this=_flag_time(flag)),
        partition_by=[_col(p, "fe") for p in partition],
        order=exp.Order(expressions=[exp.Ordered(this=_col("_t", "fe"), desc=True)]),
        spec=frame,
    )


def same_as(spec: StepMatch, k: int) -> int:
    """The first step with step k's definition (events and filters): steps defined alike share
    their flag and window columns in ``fw``, which every step's lookup reads (PostgreSQL keeps it
    as one tuplestore, spilled and read once per step when it is wide)."""
    members = repr(spec.steps[k - 1].members)
    return next(s for s in range(1, k + 1) if repr(spec.steps[s - 1].members) == members)


def window_pass(lw: Lowering, spec: StepMatch, cols: Columns) -> None:
    """The CTE ``fw``: ``fe``'s rows with, per unit and held values, ``_n<k>`` the next time of
    step k strictly after the row (ordered) or ``_f<k>`` the earliest at or after it (any
    order), for the first step ``k`` of each definition (``same_as``); per unit, ``_y<j>`` the
    next time of exclusion j strictly after the row."""
    firsts = sorted({same_as(spec, k) for k in range(1, cols.steps + 1)})
    base = ["_u", "_t", *(["_b"] if cols.bucket else []), *cols.groups, *cols.held]
    base += [f"_m{k}" for k in firsts]
    outputs: list[exp.Expr] = [_col(c, "fe").as_(c) for c in base]
    per_unit = ["_u", *cols.held]
    if spec.order == "any":
        outputs += [_earliest_from(f"_m{k}", per_unit, False).as_(f"_f{k}") for k in firsts]
    else:
        nexts = sorted({same_as(spec, k) for k in range(2, cols.steps + 1)})
        outputs += [_earliest_from(f"_m{k}", per_unit, True).as_(f"_n{k}") for k in nexts]
        outputs += [_earliest_from(f"_x{j}", ["_u"], True).as_(f"_y{j}") for j in range(1, cols.exclusions + 1)]
    lw.ctes.append(("fw", exp.select(*outputs).from_(table_ref("fe"))))


def entries(lw: Lowering, condition: exp.Expr, table: str = "fw") -> exp.Expr:
    """``condition`` on ``table`` and the row's time inside the range (an attempt's start)."""
    t = _col("_t", table)
    tf = lw.analysis_range  # the plan's range
    inside = exp.and_(
        exp.GTE(this=t, expression=micros(tf.start_utc)), exp.LT(this=t.copy(), expression=micros(tf.end_utc))
    )
    return exp.and_(condition, inside)


def _within(time: exp.Expr, start: exp.Expr, window: exp.Expr) -> exp.Expr:
    """``time`` when it is at most ``start + window``, else NULL."""
    bound = exp.Add(this=start, expression=window)
    return exp.Case(ifs=[exp.If(this=exp.LTE(this=time, expression=bound), true=time.copy())])


def match_ordered(lw: Lowering, spec: StepMatch, cols: Columns) -> str:
    """``fa``, ``fl<k>``/``f<k>``, ``fc``: each attempt's matched time per step ``_s<k>`` (NULL
    once a step is not reached), the next excluded times ``_e<j>`` after the exclusion's
    ``after_step``, then the steps reached ``_m`` and whether it is valid ``_ok``."""
    window = micros(spec.window_delta)
    afters = [spec.exclusion_steps(x)[0] for x in spec.exclude]
    carried = [_col(c, "fw").as_(c) for c in cols.keys]
    first = [
        *carried,
        _col("_t", "fw").as_("_s1"),
        _within(_col(f"_n{same_as(spec, 2)}", "fw"), _col("_t", "fw"), window).as_("_s2"),
        *[_col(f"_y{j + 1}", "fw").as_(f"_e{j + 1}") for j, a in enumerate(afters) if a == 1],
    ]
    is_first = exp.EQ(this=_col("_m1", "fw"), expression=exp.Literal.number(1))
    lw.ctes.append(("fa", exp.select(*first).from_(table_ref("fw")).where(entries(lw, is_first))))
    names = [*cols.keys, "_s1", "_s2", *[f"_e{j + 1}" for j, a in enumerate(afters) if a == 1]]
    previous = "fa"
    for k in range(3, cols.steps + 1):
        per_time = ["_u", *cols.held, "_t"]
        mine = [j for j, a in enumerate(afters) if a == k - 1]
        lookup = exp.select(
            *[_col(c, "fw").as_(c) for c in per_time],
            exp.Min(this=_col(f"_n{same_as(spec, k)}", "fw")).as_("_n"),
            *[exp.Min(this=_col(f"_y{j + 1}", "fw")).as_(f"_y{j + 1}") for j in mine],
        )
        is_step = exp.EQ(this=_col(f"_m{same_as(spec, k - 1)}", "fw"), expression=exp.Literal.number(1))
        lookup = lookup.from_(table_ref("fw")).where(is_step).group_by(*[_col(c, "fw") for c in per_time])
        lw.ctes.append((f"fl{k}", lookup))
        on = [exp.EQ(this=_col(c, "l"), expression=_col(c, "p")) for c in ["_u", *cols.held]]
        on.append(exp.EQ(this=_col("_t", "l"), expression=_col(f"_s{k - 1}", "p")))
        step = exp.select(
            *[_col(c, "p").as_(c) for c in names],
            _within(_col("_n", "l"), _col("_s1", "p"), window.copy()).as_(f"_s{k}"),
            *[_col(f"_y{j + 1}", "l").as_(f"_e{j + 1}") for j in mine],
        )
        step = step.from_(exp.alias_(table_ref(previous), "p", table=True)).join(
            exp.alias_(table_ref(f"fl{k}"), "l", table=True), on=exp.and_(*on), join_type="left"
        )
        lw.ctes.append((f"f{k}", step))
        names += [f"_s{k}", *[f"_e{j + 1}" for j in mine]]
        previous = f"f{k}"
    return finish_ordered(lw, spec, cols, previous, names)


def finish_ordered(lw: Lowering, spec: StepMatch, cols: Columns, previous: str, names: list[str]) -> str:
    """``fc``: ``previous``'s attempts (``names``: their keys, matched times ``_s<k>`` and next
    excluded times ``_e<j>``) with the steps reached ``_m`` and whether they are valid ``_ok``."""
    window = micros(spec.window_delta)
    reached: exp.Expr = exp.Literal.number(1)
    for k in range(2, cols.steps + 1):
        hit = exp.Not(this=exp.Is(this=_col(f"_s{k}", previous), expression=exp.Null()))
        reached = exp.Add(
            this=reached,
            expression=exp.Case(ifs=[exp.If(this=hit, true=exp.Literal.number(1))], default=exp.Literal.number(0)),
        )
    disqualified: list[exp.Expr] = []
    for j, exclusion in enumerate(spec.exclude):
        after, before = spec.exclusion_steps(exclusion)
        excluded = _col(f"_e{j + 1}", previous)
        deadline = exp.Coalesce(
            this=_col(f"_s{before}", previous),
            expressions=[exp.Add(this=_col("_s1", previous), expression=window.copy())],
        )
        disqualified.append(
            exp.and_(
                exp.Not(this=exp.Is(this=_col(f"_s{after}", previous), expression=exp.Null())),
                exp.LT(this=excluded, expression=deadline),
            )
        )
    ok: exp.Expr = exp.Literal.number(1)
    if disqualified:
        ok = exp.Case(ifs=[exp.If(this=exp.or_(*disqualified), true=exp.Literal.number(0))], default=ok)
    final = exp.select(*[_col(c, previous).as_(c) for c in names], reached.as_("_m"), ok.as_("_ok"))
    lw.ctes.append(("fc", final.from_(table_ref(previous))))
    return "fc"


def match_any(lw: Lowering, spec: StepMatch, cols: Columns) -> str:
    """``fc``: attempts at every row of any step in the range, reaching the number of steps with
    a matching event within the window (held values equal)."""
    window = micros(spec.window_delta)
    t = _col("_t", "fw")
    reached: exp.Expr | None = None
    for k in range(1, cols.steps + 1):
        inside = exp.LTE(
            this=_col(f"_f{same_as(spec, k)}", "fw"), expression=exp.Add(this=t.copy(), expression=window.copy())
        )
        one = exp.Case(ifs=[exp.If(this=inside, true=exp.Literal.number(1))], default=exp.Literal.number(0))
        reached = one if reached is None else exp.Add(this=reached, expression=one)
    assert reached is not None
    firsts = sorted({same_as(spec, k) for k in range(1, cols.steps + 1)})
    any_step = exp.or_(*[exp.EQ(this=_col(f"_m{k}", "fw"), expression=exp.Literal.number(1)) for k in firsts])
    attempts = exp.select(
        *[_col(c, "fw").as_(c) for c in cols.keys],
        t.copy().as_("_s1"),
        reached.as_("_m"),
        exp.Literal.number(1).as_("_ok"),
    )
    lw.ctes.append(("fc", attempts.from_(table_ref("fw")).where(entries(lw, exp.paren(any_step)))))
    return "fc"


def best_attempts(lw: Lowering, spec: StepMatch, cols: Columns, attempts: str, ranked: bool) -> None:
    """``fb``: the valid attempts numbered per (unit, bucket, group — beyond the top N: Other),
    furthest step first, then the latest start, then the earliest matched times (``_r`` = 1 is
    the best)."""
    groups: list[exp.Expr] = [_col(g, attempts) for g in cols.groups]
    mapped = topn.mapped(lw, groups) if ranked else groups
    times = ["_s1"] if spec.order == "any" else [f"_s{k}" for k in range(1, cols.steps + 1)]
    partition = [_col("_u", attempts), *([_col("_b", attempts)] if cols.bucket else []), *[g.copy() for g in mapped]]
    order = [
        exp.Ordered(this=_col("_m", attempts), desc=True),
        exp.Ordered(this=_col("_s1", attempts), desc=True),
        *[exp.Ordered(this=_col(s, attempts), nulls_first=False) for s in times[1:]],
    ]
    number = exp.Window(this=exp.RowNumber(), partition_by=partition, order=exp.Order(expressions=order))
    outputs: list[exp.Expr] = [_col("_u", attempts).as_("_u")]
    if cols.bucket:
        outputs.append(_col("_b", attempts).as_("_b"))
    outputs += [g.as_(n) for g, n in zip(mapped, cols.groups, strict=True)]
    outputs += [_col(s, attempts).as_(s) for s in times]
    outputs += [_col("_m", attempts).as_("_m"), number.as_("_r")]
    select = exp.select(*outputs).from_(table_ref(attempts))
    if ranked:
        select = select.join(topn.rank_join(lw, attempts))
    ok = exp.EQ(this=_col("_ok", attempts), expression=exp.Literal.number(1))
    lw.ctes.append(("fb", select.where(ok)))
