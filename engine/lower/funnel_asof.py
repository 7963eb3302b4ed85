"""Ordered funnels by ASOF joins (the plan's ``StepMatch`` with ``form="asof"``, chosen by the
planner where the dialect has them, ``Capabilities.asof_join``: DuckDB).

The general form (``segwise.lower.funnel_steps``) computes, in one window pass over every row of
the funnel's events, the next time of each step after each row, then follows the attempts by
one grouped lookup per step. Here no window pass runs: the attempts (the step-1 rows in the
range) follow their steps directly, each step one ``ASOF LEFT JOIN`` of the attempts onto that
step's rows, on (unit, held values) and the step's time strictly after the previous step's
matched time. An ASOF join gives each left row at most one right row, the one with the smallest
such time, so it is the contract's greedy match and never fans out; the window then cuts it
(``_s1 + window``), and an attempt that stopped (NULL time) matches nothing further. Exclusions
are one more ASOF join per exclusion, on the unit, strictly after its ``after_step``'s matched
time: the next excluded time ``_e<j>``, compared with the ``before_step`` in ``fc`` as in the
general form. Steps with the same definition share one CTE of their rows.

CTEs: ``fa`` (attempts), ``fs<k>`` (a step's rows), ``fx<j>`` (an exclusion's rows), ``f<k>`` /
``fe<k>_<j>`` (the attempts after step k / after an exclusion's join), then ``fc`` (shared with the
general form).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from .funnel_steps import entries, finish_ordered, micros
from .rows import table_ref

if TYPE_CHECKING:
    from segwise.plan_funnel import StepMatch

    from .funnel_steps import Columns
    from .state import Lowering


def _col(name: str, table: str) -> exp.Column:
    return exp.column(name, table=table)


def _is_one(flag: str, table: str) -> exp.Expr:
    return exp.EQ(this=_col(flag, table), expression=exp.Literal.number(1))


def match_asof(lw: Lowering, spec: StepMatch, cols: Columns) -> str:
    """``fa`` .. ``fc``: each attempt's matched time per step ``_s<k>`` (NULL once a step is not
    reached) and next excluded times ``_e<j>``, by ASOF joins; ``fc`` as the general form's."""
    window = micros(spec.window_delta)
    afters = [spec.exclusion_steps(x)[0] for x in spec.exclude]
    first = [*[_col(c, "fe").as_(c) for c in cols.keys], _col("_t", "fe").as_("_s1")]
    prune = not spec.exclude
    if prune:  # the next attempt's start, same keys (strictly later)
        frame = exp.WindowSpec(
            kind="RANGE", start=exp.Literal.number(1), start_side="FOLLOWING", end="UNBOUNDED", end_side="FOLLOWING"
        )
        order = exp.Order(expressions=[exp.Ordered(this=_col("_t", "fe"))])
        nxt = exp.Window(
            this=exp.Min(this=_col("_t", "fe")),
            partition_by=[_col(c, "fe") for c in cols.keys],
            order=order,
            spec=frame,
        )
        first.append(nxt.as_("_nx"))
    lw.ctes.append(("fa", exp.select(*first).from_(table_ref("fe")).where(entries(lw, _is_one("_m1", "fe"), "fe"))))
    names = [*cols.keys, "_s1"]
    previous = "fa"
    shared: dict[str, str] = {}  # a step's definition -> the CTE of its rows
    per_unit = ["_u", *cols.held]
    for k in range(1, cols.steps + 1):
        if k > 1:
            rows = shared.setdefault(repr(spec.steps[k - 1].members), f"fs{k}")
            if rows == f"fs{k}":
                picked = exp.select(*[_col(c, "fe").as_(c) for c in [*per_unit, "_t"]]).from_(table_ref("fe"))
                lw.ctes.append((rows, picked.where(_is_one(f"_m{k}", "fe"))))
            bound = exp.Add(this=_col("_s1", "p"), expression=window.copy())
            within = exp.LTE(this=_col("_t", "l"), expression=bound)
            matched = exp.alias_(exp.Case(ifs=[exp.If(this=within, true=_col("_t", "l"))]), f"_s{k}")
            dominated = None
            if prune and k == 2:  # a later attempt starting before this one's step 2 reaches as far
                nx = _col("_nx", "p")
                dominated = exp.or_(
                    exp.Is(this=nx, expression=exp.Null()), exp.GTE(this=nx.copy(), expression=matched.this.copy())
                )
            previous = _follow(lw, f"f{k}", previous, names, rows, per_unit, f"_s{k - 1}", matched, dominated)
            names.append(f"_s{k}")
        for j in (j for j, a in enumerate(afters) if a == k):
            rows = f"fx{j + 1}"
            picked = exp.select(_col("_u", "fe").as_("_u"), _col("_t", "fe").as_("_t")).from_(table_ref("fe"))
            lw.ctes.append((rows, picked.where(_is_one(f"_x{j + 1}", "fe"))))
            excluded = exp.alias_(_col("_t", "l"), f"_e{j + 1}")
            previous = _follow(lw, f"fe{k}_{j + 1}", previous, names, rows, ["_u"], f"_s{k}", excluded)
            names.append(f"_e{j + 1}")
    return finish_ordered(lw, spec, cols, previous, names)


def _follow(
    lw: Lowering,
    name: str,
    previous: str,
    names: list[str],
    rows: str,
    keys: list[str],
    after: str,
    out: exp.Expr,
    keep: exp.Expr | None = None,
) -> str:
    """The CTE ``name``: ``previous``'s attempts with ``out`` from the row of ``rows`` with equal
    ``keys`` and the smallest time strictly after the attempt's ``after`` (ASOF LEFT JOIN)."""
    on: list[exp.Expr] = [exp.EQ(this=_col(c, "p"), expression=_col(c, "l")) for c in keys]
    on.append(exp.GT(this=_col("_t", "l"), expression=_col(after, "p")))
    select = exp.select(*[_col(c, "p").as_(c) for c in names], out)
    select = select.from_(exp.alias_(table_ref(previous), "p", table=True)).join(
        exp.alias_(table_ref(rows), "l", table=True), on=exp.and_(*on), join_type="asof left"
    )
    lw.ctes.append((name, select if keep is None else select.where(keep)))
    return name
