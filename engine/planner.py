"""The planner: bound query -> logical plan (``plan.py``) -> ordered rewrite rules.

:func:`build` describes every output series as a scan with the operators above it, with
estimates from the catalog's statistics. :data:`RULES` then rewrite the plan in order; each is a
function ``rule(plan, context) -> plan`` in its own module of ``segwise.rules`` with its own
tests. Rules see the bound query and the cost model through :class:`Context`, never a compiler;
no rule imports another. Plugin rules (``segwise_optimizer_rules``) run after the built-ins:

1. ``rollups``      answer a series from the smallest rollup that is exact for it (else say why not);
2. ``partitions``   add the date-partition predicate to scans of partitioned tables (and let a day
                    partition column stand in for the event time);
3. ``preaggregate`` reduce events per (bucket, user) before a user join or top-N ranking when
                    that is cheaper;
4. ``sharing``      read one table once for several series (conditional aggregates, or one
                    reduced scan under top-N) when the cost model says that is cheaper.

The cost model (``cost.Coefficients``) turns rows into seconds with coefficients calibrated per
warehouse (``segwise calibrate``), so a plan choice can differ between warehouses.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from .catalog import USER_PROPERTY
from .cost import WIDTHS, series_rows
from .plan import LogicalPlan, Operator, Scan, SeriesNode, scan_start
from .query import ANY_EVENT
from .rules import partitions, preaggregate, rollups, sharing
from .rules.context import Context

if TYPE_CHECKING:
    from .bind import BoundQuery, OutputItem
    from .measures import Measure
    from .query import Series
    from .timeframe import Timeframe


Rule = Callable[[LogicalPlan, Context], LogicalPlan]

RULES: tuple[tuple[str, Rule], ...] = (
    ("rollups", rollups.apply),
    ("partitions", partitions.apply),
    ("preaggregate", preaggregate.apply),
    ("sharing", sharing.apply),
)


def build(bound: BoundQuery) -> LogicalPlan:
    """The unrewritten plan: one node per output series."""
    nodes = [_node(bound, item) for item in bound.items]
    post = ["fill empty buckets (0 for counts, null otherwise)"]
    if bound.query.compare:
        post.append("align previous-period buckets by position")
    if bound.query.formulas:
        post += [f"formula {f.label} = {f.expression}" for f in bound.query.formulas]
    post.append("sort by series, breakdown values, bucket")
    return LogicalPlan(nodes, post=post)


def optimize(plan: LogicalPlan, context: Context, extra: tuple[tuple[str, Rule], ...] = ()) -> LogicalPlan:
    """Apply the rules in order, then ``extra`` (plugin rules); each returns the plan it rewrote
    and notes what it did."""
    plan.cost_source = context.costs.source
    for name, rule in (*RULES, *extra):
        if name in context.disabled:
            continue
        plan = rule(plan, context)
        plan.rules.append(name)
    return plan


def _node(bound: BoundQuery, item: OutputItem) -> SeriesNode:
    label, series, measure, tf, previous, index = (
        item.label,
        item.series,
        item.measure,
        item.tf,
        item.previous,
        item.index,
    )
    catalog = bound.catalog
    query = bound.query
    table_ids: list[int] = []
    for member in series.members:
        for t in catalog.tables_with_event(member.event):
            if t not in table_ids:
                table_ids.append(t)
    tables = [catalog.event_tables[t] for t in table_ids]
    filters: list[str] = []
    outer: list[str] = []
    columns: list[str] = []
    names = [m.event for m in series.members]
    filters.append(
        "event in (" + ", ".join(repr(n) for n in dict.fromkeys(names)) + ")" if ANY_EVENT not in names else "any event"
    )
    filters.append("time in range" + (" and look-back" if measure.is_rolling else ""))
    filters += [f"event time {info.encoding.describe(info.spec.event_time)}" for info in tables if info.encoding]
    conditions = [c for m in series.members for c in m.where] + list(series.where)
    for cond in conditions:
        prop = catalog.resolve(cond.property, "plan")
        text = f"{cond.property} {cond.op}"
        (outer if prop.source == USER_PROPERTY else filters).append(text)
        columns.append(prop.column)
    if query.segment is not None and "segment" not in query.breakdown:
        outer.append("user in segment")
    for name in query.breakdown:
        if name not in ("event", "segment"):
            columns.append(catalog.resolve(name, "plan").column)
    if measure.prop:
        columns.append(measure.prop)
    start = scan_start(series, measure, tf)
    rows = table_rows = width = 0
    matched = 0.0
    counts = catalog.event_counts()
    for t, info in zip(table_ids, tables, strict=True):
        r, total, _note = series_rows(catalog, info, start or datetime.min, tf.end_utc)
        rows += r
        table_rows += total
        width = max(width, sum(WIDTHS.get(info.columns[c].kind, 16) for c in set(columns) if c in info.columns) + 32)
        table_total = sum(counts[t].values()) or 1
        share = 1.0 if ANY_EVENT in names else sum(counts[t].get(n, 0) for n in names) / table_total
        matched += r * min(1.0, share)
    key = [info.spec.user_id for info in tables[:1]] + ["event time", "event name"] + sorted(set(columns))
    scan = Scan(tables, filters, outer, key, rows, table_rows, rows * width, (matched / rows) if rows else 1.0)
    node = SeriesNode(label, index, series, measure, tf, previous, scan)
    node.operators = _operators(bound, series, measure, tf)
    return node


def _operators(bound: BoundQuery, series: Series, measure: Measure, tf: Timeframe) -> list[Operator]:
    query = bound.query
    ops: list[Operator] = []
    user_props = any(
        bound.catalog.resolve(n, "plan").source == USER_PROPERTY
        for n in [c.property for m in series.members for c in m.where]
        + [c.property for c in series.where]
        + [b for b in query.breakdown if b not in ("event", "segment")]
    )
    if query.segment is not None and query.segment.user_where:
        user_props = True
    if user_props:
        ops.append(Operator("Join", "user table(s) on user id, after the event filters"))
    if series.occurrence:
        ops.append(
            Operator("Window", f"RANK per user by time: keep the {series.occurrence} ({series.occurrence_scope})")
        )
    groups = ", ".join(query.breakdown)
    keys = f"bucket({tf.grain})" + (f", {groups}" if groups else "")
    if query.breakdown_limit is not None and query.breakdown:
        ops.append(Operator("TopN", f"top {query.breakdown_limit} groups by the first series, the rest -> Other"))
    if measure.is_rolling:
        ops.append(Operator("PreAggregate", "DISTINCT (user, day[, groups]) over range + look-back"))
        ops.append(
            Operator("Intervals", f"[day, min(next active day, day + {measure.window_days})) per user: +1/-1 edges")
        )
        ops.append(Operator("Aggregate", f"edges summed up to each bucket's last day, by {keys}"))
    elif measure.is_per_user or measure.kind == "frequency":
        ops.append(Operator("PreAggregate", f"per (user, {keys})"))
        ops.append(Operator("Aggregate", f"{measure} across users, by {keys}"))
    else:
        ops.append(Operator("Aggregate", f"{measure} by {keys}"))
    return ops
