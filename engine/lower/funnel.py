"""Funnels (docs/queries.md, "Funnels"): one statement, the events read once, one window pass per
unit; attempts follow their steps by equality lookups on (unit, held values, time), which never
fan out, so the cost grows with rows + steps, not rows x steps.

Times are whole microseconds since 1970 (``flavor.epoch_micros``): "strictly later" is a
``RANGE`` frame ending 1 before the row, the window an integer bound.

1. ``fe``: every step's and exclusion's events from the range's start to its end plus the window
   (capped at now): unit ``_u``, time ``_t``, entry bucket ``_b``, groups ``_g*``, held values
   ``_h*``, a 0/1 flag ``_m<k>`` per step (held values non-null) and ``_x<j>`` per exclusion;
2. ``fw``: one window pass (``segwise.lower.funnel_steps``): per unit and held values, the next
   time of step k strictly after each row (ordered), or the earliest at or after it (any order);
   per unit, the next excluded time strictly after it (ordered funnels where the dialect has
   ASOF joins skip it: ``segwise.lower.funnel_asof`` follows the attempts by ASOF joins);
3. ordered: ``fa`` the attempts (step-1 rows in the range), then ``f3`` .. ``fN`` each one
   lookup of the step-(k-1) row at the matched time (``fl<k>``: one row per (unit, held values,
   time)); any order: the attempts with the number of steps reached;
4. ``_rank`` (top-N): groups by step-1 units over the range; ``fb``: per (unit, bucket, mapped
   group) the valid attempt reaching furthest, ties to the latest start, then to the earliest
   matched times step by step;
5. ``fd``: each best attempt x its steps 1..reached with the seconds from the previous step,
   numbered for the exact median; the answer: units, average and median per (bucket, groups,
   step). Shaping fills the grid and the rates (``segwise.shape_funnel``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from segwise.plan_funnel import FunnelTopN, StepMatch
from segwise.query import ANY_EVENT

from . import topn
from .funnel_asof import match_asof
from .funnel_lists import match_lists
from .funnel_steps import Columns, best_attempts, match_any, match_ordered, window_pass
from .rows import table_ref
from .series import analysis_source, segmented_groups

if TYPE_CHECKING:
    from segwise.plan import AnalysisNode
    from segwise.query import EventFilter

    from .rows import RowSource
    from .state import Lowering


def funnel_select(lw: Lowering, node: AnalysisNode) -> exp.Select:
    spec = next(op for op in node.operators if isinstance(op, StepMatch))
    # bounds: the scan's TimeRange (range + window)
    source = analysis_source(lw, node, spec.events, *spec.steps, *(x.events for x in spec.exclude))
    cols = _events(lw, spec, source)
    attempts = _attempts(lw, node, spec, cols)
    limit = next((op.limit for op in node.operators if isinstance(op, FunnelTopN)), None)
    if limit is not None:
        lw.keep.add(attempts)  # read by the ranking and by the best attempt: computed once
        valid = exp.select(*[exp.column(g, table=attempts) for g in cols.groups], exp.column("_u", table=attempts))
        lw.ctes.append(("fr", valid.from_(table_ref(attempts)).where(_is_one(exp.column("_ok", table=attempts)))))
        groups: list[exp.Expr] = [exp.column(g, table="fr") for g in cols.groups]
        topn.rank_select(lw, "fr", groups, exp.Count(this=exp.Distinct(expressions=[exp.column("_u", table="fr")])))
    best_attempts(lw, spec, cols, attempts, limit is not None)
    return _per_step(lw, spec, cols)


def _attempts(lw: Lowering, node: AnalysisNode, spec: StepMatch, cols: Columns) -> str:
    """The attempts as the plan's ``StepMatch`` says: by ASOF joins, by subscripts into per-unit
    ordered lists, else the window pass."""
    if spec.form == "asof":
        return match_asof(lw, spec, cols)
    if spec.form == "lists":
        return match_lists(lw, spec, cols)
    window_pass(lw, spec, cols)
    return match_any(lw, spec, cols) if spec.order == "any" else match_ordered(lw, spec, cols)


def _is_one(column: exp.Expr) -> exp.Expr:
    return exp.EQ(this=column, expression=exp.Literal.number(1))


def _events(lw: Lowering, spec: StepMatch, source: RowSource) -> Columns:
    """The CTE ``fe``: the funnel's events with their unit, time, bucket, groups, held values and
    a flag per step and exclusion."""
    flavor = lw.flavor
    user = source.user()
    groups = segmented_groups(lw, source)
    for i, prop in enumerate(spec.hold):  # the plan's held properties, resolved
        source.check_read(prop, f"funnel > hold[{i}]")
    held = [source.prop(prop) for prop in spec.hold]
    held_known = [exp.Not(this=exp.Is(this=h.copy(), expression=exp.Null())) for h in held]

    def flag(part_members: tuple[EventFilter, ...], location: str, hold: bool) -> exp.Expr:
        matches = [_member(source, member, f"{location} > event") for member in part_members]
        condition: exp.Expr = exp.or_(*matches) if len(matches) > 1 else matches[0]
        if hold and held_known:
            condition = exp.and_(condition, *[h.copy() for h in held_known])
        return exp.Case(ifs=[exp.If(this=condition, true=exp.Literal.number(1))], default=exp.Literal.number(0))

    cols = Columns(
        groups=[f"_g{j}" for j in range(len(groups))],
        held=[f"_h{i}" for i in range(len(held))],
        steps=len(spec.steps),
        exclusions=len(spec.exclude),
        bucket=not lw.bucketing.total,
    )
    outputs: list[exp.Expr] = [user.as_("_u"), flavor.epoch_micros(source.utc_time()).as_("_t")]
    if cols.bucket:
        outputs.append(source.bucket().as_("_b"))
    outputs += [g.as_(n) for g, n in zip(groups, cols.groups, strict=True)]
    outputs += [h.as_(n) for h, n in zip(held, cols.held, strict=True)]
    outputs += [flag(s.members, f"funnel > steps[{k}]", True).as_(f"_m{k + 1}") for k, s in enumerate(spec.steps)]
    outputs += [flag(x.members, f"funnel > exclude[{j}]", False).as_(f"_x{j + 1}") for j, x in enumerate(spec.exclude)]
    rows = source.select(outputs)
    lw.ctes.append(("fe", rows.where(exp.Not(this=exp.Is(this=user.copy(), expression=exp.Null())), copy=False)))
    return cols


def _member(source: RowSource, member: EventFilter, location: str) -> exp.Expr:
    """One event of a step (its name and filters) on the scan's rows."""
    parts: list[exp.Expr] = []
    if member.event != ANY_EVENT:
        parts.append(exp.EQ(this=source.event_name(), expression=exp.Literal.string(member.event)))
    parts += [source.condition(cond, f"{location} > where[{c}]", None, "e") for c, cond in enumerate(member.where)]
    if not parts:
        return exp.true()
    return exp.paren(exp.and_(*parts), copy=False) if len(parts) > 1 else parts[0]


def _per_step(lw: Lowering, spec: StepMatch, cols: Columns) -> exp.Select:
    """``fd`` and the answer: every best attempt at each step it reached, units and seconds per
    (bucket, groups, step); the median exact and continuous from the numbered seconds."""
    flavor = lw.flavor
    steps = flavor.values_table(
        [exp.Tuple(expressions=[exp.Literal.number(k)]) for k in range(1, cols.steps + 1)], ["_k"]
    )
    lw.ctes.append(("fk", steps))
    keys = (["_b"] if cols.bucket else []) + cols.groups
    k = exp.column("_k", table="fk")
    if spec.order == "any":
        seconds: exp.Expr = exp.cast(exp.Null(), exp.DataType.Type.DOUBLE)
    else:
        ifs = [
            exp.If(
                this=exp.EQ(this=k.copy(), expression=exp.Literal.number(s)),
                true=exp.Sub(this=exp.column(f"_s{s}", table="fo"), expression=exp.column(f"_s{s - 1}", table="fo")),
            )
            for s in range(2, cols.steps + 1)
        ]
        micros = exp.Case(ifs=ifs)
        seconds = exp.Div(this=flavor.as_double(micros), expression=exp.Literal.number("1000000.0"))
    part = [exp.column(n, table="fo") for n in keys] + [k.copy()]
    number = exp.Window(
        this=exp.RowNumber(),
        partition_by=[p.copy() for p in part],
        order=exp.Order(expressions=[exp.Ordered(this=seconds.copy(), nulls_first=False)]),
    )
    size = exp.Window(this=exp.Count(this=exp.Star()), partition_by=[p.copy() for p in part])
    fd = (
        exp.select(
            *[exp.column(n, table="fo").as_(n) for n in keys],
            k.copy().as_("_k"),
            seconds.as_("_d"),
            number.as_("_rn"),
            size.as_("_n"),
        )
        .from_(exp.alias_(table_ref("fb"), "fo", table=True))
        .join(table_ref("fk"), on=exp.GTE(this=exp.column("_m", table="fo"), expression=k.copy()))
        .where(exp.EQ(this=exp.column("_r", table="fo"), expression=exp.Literal.number(1)))
    )
    lw.ctes.append(("fd", fd))
    d, rn, n = (exp.column(c, table="fd") for c in ("_d", "_rn", "_n"))
    middle = exp.and_(
        exp.GTE(this=exp.Mul(this=exp.Literal.number(2), expression=rn), expression=n),
        exp.LTE(
            this=exp.Mul(this=exp.Literal.number(2), expression=rn.copy()),
            expression=exp.Add(this=n.copy(), expression=exp.Literal.number(2)),
        ),
    )
    median = exp.Avg(this=exp.Case(ifs=[exp.If(this=middle, true=d.copy())]))
    outputs: list[exp.Expr] = [exp.column("_b", table="fd").as_("bucket")] if cols.bucket else []
    outputs += [exp.column(g, table="fd").as_(g) for g in cols.groups]
    outputs += [
        flavor.as_bigint(exp.column("_k", table="fd")).as_("step"),
        flavor.as_bigint(exp.Count(this=exp.Star())).as_("count"),
        flavor.as_double(exp.Avg(this=d.copy())).as_("avg_seconds"),
        flavor.as_double(median).as_("median_seconds"),
    ]
    group_by = [exp.column(c, table="fd") for c in [*keys, "_k"]]
    return exp.select(*outputs).from_(table_ref("fd")).group_by(*group_by)
