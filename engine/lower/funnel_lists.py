"""Ordered funnels by per-unit ordered lists (the plan's ``StepMatch`` with ``form="lists"``,
chosen by the planner for many steps where the dialect has them, ``Capabilities.ordered_lists``:
DuckDB; ``segwise.plan_funnel.choose_form``).

The ASOF form (``segwise.lower.funnel_asof``) joins the attempts once per step: its cost grows
with the steps. Here the attempts join the unit's rows once, and every step is a subscript:

1. ``fn``: ``fe``'s rows with, per unit (and held values), ``_c<d>`` the number of rows of step
   definition ``d`` at or before the row's time (a running count; peers included), and ``_y<j>``
   the same for exclusion j. The ``c``-th row of definition ``d`` is then the last one at or
   before the row, so the ``(c + 1)``-th is the earliest strictly later: the greedy match.
2. ``fl``: per unit (and held values) one list per step definition ``_l<d>`` of its rows in time
   order, each a struct of its time ``t`` and the counts the next step needs (``_c<d'>`` of the
   definition that follows it, ``_y<j>`` of an exclusion that starts after it); ``_z<j>`` the
   exclusion's times.
3. ``fa`` the attempts (step-1 rows in the range) carry their own counts; ``f2`` joins them to
   ``fl`` on the unit (and held values) — the only join — and ``f<k>`` follows step k by
   subscripts: ``_j<k> = _l<d_{k-1}>[_j<k-1>]._c<d_k> + 1``, matched when
   ``_l<d_k>[_j<k>].t <= _s1 + window`` (a subscript past the end is NULL, so is everything
   after a step not reached). The next excluded time after step ``a``: ``_z<j>[count + 1]``.
4. ``fc`` as the other forms' (``finish_ordered``).

Without exclusions, buckets or groups, an attempt whose next attempt (the next step-1 row in the
range) starts strictly before its step 2 is dropped, as in the ASOF form: the later one reaches as
far with a later start. Each attempt carries its unit's lists through the join: attempts x rows
per unit, which is why the planner takes this form only where the catalog's rows per unit keep
that below the ASOF form's work (docs/queries.md, "Funnels").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from .funnel_steps import entries, finish_ordered, micros, same_as
from .rows import table_ref

if TYPE_CHECKING:
    from segwise.plan_funnel import StepMatch

    from .funnel_steps import Columns
    from .state import Lowering


def _col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table) if table else exp.column(name)


def _is_one(flag: str, table: str) -> exp.Expr:
    return exp.EQ(this=_col(flag, table), expression=exp.Literal.number(1))


def _at(values: exp.Expr, index: exp.Expr) -> exp.Expr:
    """``values[index]`` (1-based; NULL past the end or for a NULL index)."""
    return exp.Bracket(this=values, expressions=[index], offset=1)


def _field(value: exp.Expr, name: str) -> exp.Expr:
    return exp.Dot(this=value, expression=exp.to_identifier(name))


def _plus_one(value: exp.Expr) -> exp.Expr:
    return exp.Add(this=value, expression=exp.Literal.number(1))


def _when(condition: exp.Expr, value: exp.Expr) -> exp.Expr:
    return exp.Case(ifs=[exp.If(this=condition, true=value)])


def match_lists(lw: Lowering, spec: StepMatch, cols: Columns) -> str:
    """``fn``, ``fl``, ``fa``, ``f2`` .. ``fN``, ``fc``: each attempt's matched time per step
    ``_s<k>`` and next excluded times ``_e<j>`` by subscripts into its unit's ordered lists."""
    n = cols.steps
    window = micros(spec.window_delta)
    per_unit = ["_u", *cols.held]
    afters = [spec.exclusion_steps(x)[0] for x in spec.exclude]
    prune = not spec.exclude and not cols.bucket and not cols.groups
    step_def = {k: same_as(spec, k) for k in range(1, n + 1)}
    listed = sorted({step_def[k] for k in range(2, n + 1)} | ({step_def[1]} if prune else set()))
    fields: dict[int, list[str]] = {d: [] for d in listed}  # what each definition's list carries
    for k in range(3, n + 1):
        fields[step_def[k - 1]].append(f"_c{step_def[k]}")
    for j, a in enumerate(afters):
        if a >= 2:
            fields[step_def[a]].append(f"_y{j + 1}")
    fields = {d: list(dict.fromkeys(f)) for d, f in fields.items()}
    # fn: the running counts, per unit (and held values; no exclusion is planned with hold)
    order = exp.Order(expressions=[exp.Ordered(this=_col("_t", "fe"))])
    partition = [_col(c, "fe") for c in per_unit]

    def running(flag: str) -> exp.Expr:
        one = _when(_is_one(flag, "fe"), exp.Literal.number(1))
        return exp.Window(this=exp.Count(this=one), partition_by=[p.copy() for p in partition], order=order.copy())

    flags = [f"_m{d}" for d in sorted({*listed, step_def[1]})] + [f"_x{j + 1}" for j in range(cols.exclusions)]
    counted = [(f"_c{d}", f"_m{d}") for d in listed] + [(f"_y{j + 1}", f"_x{j + 1}") for j in range(cols.exclusions)]
    fn = exp.select(
        *[_col(c, "fe").as_(c) for c in dict.fromkeys([*cols.keys, "_t", *flags])],
        *[running(flag).as_(name) for name, flag in counted],
    )
    lw.ctes.append(("fn", fn.from_(table_ref("fe"))))
    # fl: the ordered lists per unit
    time_order = exp.Order(expressions=[exp.Ordered(this=_col("_t", "fn"))])

    def ordered_list(value: exp.Expr, flag: str) -> exp.Expr:
        agg = exp.ArrayAgg(this=exp.Order(this=value, expressions=time_order.copy().expressions))
        return exp.Filter(this=agg, expression=exp.Where(this=_is_one(flag, "fn")))

    lists = [f"_l{d}" for d in listed] + [f"_z{j + 1}" for j in range(cols.exclusions)]
    outputs: list[exp.Expr] = [_col(c, "fn").as_(c) for c in per_unit]
    for d in listed:
        members = [exp.PropertyEQ(this=exp.to_identifier("t"), expression=_col("_t", "fn"))]
        members += [exp.PropertyEQ(this=exp.to_identifier(f), expression=_col(f, "fn")) for f in fields[d]]
        outputs.append(ordered_list(exp.Struct(expressions=members), f"_m{d}").as_(f"_l{d}"))
    outputs += [ordered_list(_col("_t", "fn"), f"_x{j + 1}").as_(f"_z{j + 1}") for j in range(cols.exclusions)]
    lw.ctes.append(("fl", exp.select(*outputs).from_(table_ref("fn")).group_by(*[_col(c, "fn") for c in per_unit])))
    # fa: the attempts with their own counts
    own = [f"_c{step_def[2]}", *[f"_y{j + 1}" for j, a in enumerate(afters) if a == 1]]
    own += [f"_c{step_def[1]}"] if prune else []
    own = list(dict.fromkeys(own))
    first = [*[_col(c, "fn").as_(c) for c in cols.keys], _col("_t", "fn").as_("_s1")]
    first += [_col(c, "fn").as_(c) for c in own]
    lw.ctes.append(("fa", exp.select(*first).from_(table_ref("fn")).where(entries(lw, _is_one("_m1", "fn"), "fn"))))
    # f2 .. fN: one join, then subscripts
    names = [*cols.keys, "_s1"]
    previous = "fa"
    for k in range(2, n + 1):
        d = step_def[k]
        src = "l" if k == 2 else "p"  # the lists: from the join at step 2, carried after
        if k == 2:
            index: exp.Expr = _plus_one(_col(f"_c{d}", "p"))
        else:
            index = _plus_one(_field(_at(_col(f"_l{step_def[k - 1]}", "p"), _col(f"_j{k - 1}", "p")), f"_c{d}"))
        time = _field(_at(_col(f"_l{d}", src), index), "t")
        within = exp.LTE(this=time, expression=exp.Add(this=_col("_s1", "p"), expression=window.copy()))
        outputs = [_col(c, "p").as_(c) for c in names]
        outputs += [_col(c, src).as_(c) for c in lists]
        outputs += [_when(within, time.copy()).as_(f"_s{k}"), _when(within.copy(), index.copy()).as_(f"_j{k}")]
        excluded = []
        for j, a in enumerate(afters):  # the next excluded time after step a, at the step after it
            if a == k - 1:
                if a == 1:
                    count: exp.Expr = _col(f"_y{j + 1}", "p")
                else:
                    count = _field(_at(_col(f"_l{step_def[a]}", "p"), _col(f"_j{a}", "p")), f"_y{j + 1}")
                outputs.append(_at(_col(f"_z{j + 1}", src), _plus_one(count)).as_(f"_e{j + 1}"))
                excluded.append(f"_e{j + 1}")
        select = exp.select(*outputs).from_(exp.alias_(table_ref(previous), "p", table=True))
        if k == 2:
            on = exp.and_(*[exp.EQ(this=_col(c, "p"), expression=_col(c, "l")) for c in per_unit])
            select = select.join(exp.alias_(table_ref("fl"), "l", table=True), on=on)
            if prune:  # the next attempt in the range, strictly before this one's step 2, reaches as far
                nxt = _field(_at(_col(f"_l{step_def[1]}", "l"), _plus_one(_col(f"_c{step_def[1]}", "p"))), "t")
                select = select.where(
                    exp.or_(
                        exp.Is(this=nxt, expression=exp.Null()),
                        exp.GTE(this=nxt.copy(), expression=micros(lw.analysis_range.end_utc)),
                        exp.GTE(this=nxt.copy(), expression=_when(within.copy(), time.copy())),
                    )
                )
        lw.ctes.append((f"f{k}", select))
        names += [f"_s{k}", *excluded]
        previous = f"f{k}"
    return finish_ordered(lw, spec, cols, previous, names)
