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
                    reduced scan under top-N) when the cost model says that is cheaper;
5. ``rolling``      rolling active users by a per-user bitmask of active days where the dialect's
                    integer holds the days read, else by intervals (the decision says why);
6. ``materialize``  under top-N, series over the same rows share one materialized CTE.

The cost model (``cost.Coefficients``) turns rows into seconds with coefficients calibrated per
warehouse (``segwise calibrate``), so a plan choice can differ between warehouses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel

from . import cohorts
from .catalog import EVENT_PROPERTY, USER_PROPERTY
from .cost import WIDTHS, series_rows
from .plan import (
    ActiveDays,
    Activity,
    Aggregate,
    AnalysisNode,
    CohortReduction,
    CohortScan,
    Histogram,
    Intervals,
    Join,
    LogicalPlan,
    Operator,
    PreAggregate,
    Predicate,
    Scan,
    SeriesNode,
    Statuses,
    TopN,
    Window,
)
from .plan_bound import row_bound
from .plan_events import CohortCondition, Threshold, condition_predicate, match
from .plan_funnel import BestAttempt, Exclusion, FunnelTopN, StepAggregate, StepMatch, choose_form
from .plan_parts import event_names, look_back_start, spine, time_range
from .plan_retention import Cohorts, MemberJoin, RetentionCounts, ReturnPeriods
from .plan_series import fill, group_by, union
from .plan_users import user_tables
from .query import ANY_EVENT, Condition
from .retention_frame import retention_frame
from .rules import materialize, partitions, preaggregate, rollups, sharing
from .rules import rolling as rolling_rule
from .rules.context import Context
from .timeframe import shift, to_utc

if TYPE_CHECKING:
    from .bind import BoundQuery, OutputItem
    from .catalog import EventTableInfo
    from .cohorts import Behaviour, Check
    from .measures import Measure
    from .plan_events import Match
    from .query import EventFilter, Series
    from .timeframe import Timeframe


Rule = Callable[[LogicalPlan, Context], LogicalPlan]

RULES: tuple[tuple[str, Rule], ...] = (
    ("rollups", rollups.apply),
    ("partitions", partitions.apply),
    ("preaggregate", preaggregate.apply),
    ("sharing", sharing.apply),
    ("rolling", rolling_rule.apply),
    ("materialize", materialize.apply),
)


def build(bound: BoundQuery) -> LogicalPlan:
    """The unrewritten plan: one node per output series (or the analysis' node), the
    per-unit reduction of the segment and category breakdowns, and the unit counted."""
    behaviour = cohorts.resolve(bound)
    plan = ANALYSIS_PLANS[bound.query.analysis](bound) if bound.query.analysis != "series" else _series(bound)
    plan.group_by = group_by(bound, behaviour)
    if behaviour is not None:
        plan.behaviour, plan.cohort = behaviour, _cohort(bound, behaviour)
    return _with_unit(bound, plan)


def _series(bound: BoundQuery) -> LogicalPlan:
    nodes = [_node(bound, item) for item in bound.items]
    post: list[str] = []
    if bound.query.compare:
        post.append("align previous-period buckets by position")
    if bound.query.formulas:
        post += [f"formula {f.label} = {f.expression}" for f in bound.query.formulas]
    post.append("sort by series, breakdown values, bucket")
    tf = bound.timeframe
    zero = fill(tf.grain, tuple(tf.buckets), [item.measure.is_count for item in bound.items])
    return LogicalPlan(nodes, post=post, union=union(len(nodes)), fill=zero)


def _with_unit(bound: BoundQuery, plan: LogicalPlan) -> LogicalPlan:
    """The plan says which unit it counts (typed, what lowering reads; and for explain, when not
    users, the unit id's column, joined from where) and whether a user is on one reduced row per
    output group (``BoundQuery.users_unique_after_reduction``)."""
    plan.counted, plan.users_unique = bound.unit, bound.users_unique_after_reduction()
    if not bound.unit.is_user:
        plan.unit = bound.unit.describe(bound.catalog)
    return plan


def optimize(plan: LogicalPlan, context: Context, extra: tuple[tuple[str, Rule], ...] = ()) -> LogicalPlan:
    """Apply the rules in order, then ``extra`` (plugin rules); each returns the plan it rewrote
    and notes what it did."""
    plan.cost_source = context.costs.source
    for name, rule in (*RULES, *extra):
        if name in context.disabled:
            continue
        plan = rule(plan, context)
        plan.rules.append(name)
    # the answer's rows, from the plan as the rules left it; a plugin's rule may change what the
    # statement returns: not proven then
    plan.max_rows = None if extra else row_bound(context.bound, plan)
    return plan


def _node(bound: BoundQuery, item: OutputItem) -> SeriesNode:
    series, measure, tf = item.series, item.measure, item.tf
    start, end, note = _read_range(bound, series, measure, tf)
    extra = [measure.prop] if measure.prop else []
    scan = _scan(bound, series.members, list(series.where), start, end, note, extra)
    location = bound.where(item.index)  # how lowering's errors name the series
    node = SeriesNode(item.label, item.index, series, measure, tf, item.previous, scan, location=location)
    node.operators = _operators(bound, series, measure, tf, item.index)
    return node


def _read_range(
    bound: BoundQuery, series: Series, measure: Measure, tf: Timeframe
) -> tuple[datetime | None, datetime | None, str]:
    """The UTC instants a series' scan reads, and why they differ from its range: a first/last
    occurrence over the user's whole history reads up to the range's end (first) or from its
    start (last), a rolling count the N-1 local days before it."""
    if series.occurrence:
        if series.occurrence_scope == "range":
            return tf.start_utc, tf.end_utc, f"{series.occurrence} occurrence in the range"
        if series.occurrence == "first":  # later events cannot be earlier: no need to read past the end
            return None, tf.end_utc, "first occurrence ever: the whole history before"
        return tf.start_utc, None, "last occurrence ever: everything after"  # earlier cannot be later
    if measure.is_rolling:
        window = measure.window_days or 1
        return look_back_start(tf, window, bound.project.tz), tf.end_utc, f"range + {window - 1} days look-back"
    return tf.start_utc, tf.end_utc, ""


def _scan(
    bound: BoundQuery,
    members: list[EventFilter],
    where: list[Condition],
    start: datetime | None,
    end: datetime | None,
    note: str,
    extra_columns: list[str],
) -> Scan:
    """The read of ``members``' events with ``where``, between ``start`` and ``end``, estimated
    from the catalog's statistics."""
    catalog = bound.catalog
    query = bound.query
    table_ids: list[int] = []
    for member in members:
        for t in catalog.tables_with_event(member.event):
            if t not in table_ids:
                table_ids.append(t)
    tables = [catalog.event_tables[t] for t in table_ids]
    filters: list[Predicate] = []
    outer: list[Predicate] = []
    columns: list[str] = []
    names = [m.event for m in members]
    filters += [Predicate(f"event time {i.encoding.describe(i.spec.event_time)}") for i in tables if i.encoding]
    for cond in [c for m in members for c in m.where] + where:
        predicate, prop = condition_predicate(bound.flavor, catalog, cond)
        (outer if prop.source == USER_PROPERTY else filters).append(predicate)
        columns.append(prop.column)
    if query.segment is not None and "segment" not in query.breakdown:
        outer.append(Predicate("user in segment"))
    for name in query.breakdown:
        if name not in ("event", "segment") and not bound.is_category(name):
            columns.append(catalog.resolve(name, "plan").column)
    columns += extra_columns
    rows = table_rows = width = 0
    matched = 0.0
    counts = catalog.event_counts()
    for t, info in zip(table_ids, tables, strict=True):
        r, total, _note = series_rows(catalog, info, start or datetime.min, end or datetime.max)
        rows += r
        table_rows += total
        width = max(width, sum(WIDTHS.get(info.columns[c].kind, 16) for c in set(columns) if c in info.columns) + 32)
        table_total = sum(counts[t].values()) or 1
        share = 1.0 if ANY_EVENT in names else sum(counts[t].get(n, 0) for n in names) / table_total
        matched += r * min(1.0, share)
    unit = bound.unit.prop
    ids = [info.spec.user_id for info in tables[:1]] if unit is None or unit.source == USER_PROPERTY else [unit.column]
    key = [*ids, "event time", "event name", *sorted(set(columns))]
    scan = Scan(tables, filters, outer, key, rows, table_rows, rows * width, (matched / rows) if rows else 1.0)
    scan.events = event_names(tables, names)
    scan.time = time_range(bound.flavor, tables, start, end, note)
    return scan


def _lifecycle(bound: BoundQuery) -> LogicalPlan:
    """Lifecycle: one scan of the event up to the range's end (each user's first event ever; the
    activity from the bucket before the range), statuses per user and bucket, users counted."""
    spec = bound.query.lifecycle
    assert spec is not None
    tf = bound.timeframe
    scan = _scan(bound, spec.members, list(spec.where), None, tf.end_utc, "each user's first event ever", [])
    groups = ", ".join(bound.query.breakdown)
    keys = f"bucket({tf.grain})" + (f", {groups}" if groups else "")
    operators: list[Operator] = [_join(bound)] if _user_props(bound, spec.members, list(spec.where)) else []
    events = match(bound.flavor, bound.catalog, spec.members, spec.where)
    edges = _lifecycle_edges(tf)
    active = Activity(keys, events, to_utc(edges[0], bound.project.tz), tf.end_utc)
    operators += [active, Statuses(keys, edges)]
    event = spec.event if isinstance(spec.event, str) else " or ".join(m.event for m in spec.members)
    post = ["fill every bucket x status of each group with 0", "sort by breakdown values, status, bucket"]
    return LogicalPlan([], post=post, analysis=AnalysisNode("lifecycle", event, tf, scan, operators, start=None))


_STEP = {"hour": (1, "hours"), "day": (1, "days"), "week": (1, "weeks"), "month": (1, "months")}


def _lifecycle_edges(tf: Timeframe) -> tuple[datetime, ...]:
    """The bucket before the range, the range's buckets, and the end of the last (naive local)."""
    amount, unit = _STEP[tf.grain]
    buckets = list(tf.buckets)
    return (shift(buckets[0], -amount, unit), *buckets, shift(buckets[-1], amount, unit))


def _stickiness(bound: BoundQuery) -> LogicalPlan:
    """Stickiness: one scan of the event over the range, its (user, day) pairs, days per user
    and bucket, users per number of days."""
    spec = bound.query.stickiness
    assert spec is not None
    tf = bound.timeframe
    scan = _scan(bound, spec.members, list(spec.where), tf.start_utc, tf.end_utc, "", [])
    groups = ", ".join(bound.query.breakdown)
    keys = f"bucket({tf.grain})" + (f", {groups}" if groups else "")
    operators: list[Operator] = [_join(bound)] if _user_props(bound, spec.members, list(spec.where)) else []
    events = match(bound.flavor, bound.catalog, spec.members, spec.where)
    operators += [ActiveDays(keys, events, tf.grain), Histogram(keys, bound.query.cumulative)]
    event = spec.event if isinstance(spec.event, str) else " or ".join(m.event for m in spec.members)
    post = ["fill every days 1..D of each bucket and group with 0", "sort by breakdown values, bucket, days"]
    if bound.query.cumulative:
        post.insert(1, "at least d days: the counts of d days and more, summed")
    node = AnalysisNode("stickiness", event, tf, scan, operators, start=tf.start_utc)
    return LogicalPlan([], post=post, analysis=node)


def _funnel(bound: BoundQuery) -> LogicalPlan:
    """Funnel: one scan of every step's and exclusion's events from the range's start to its end
    plus the window (capped at now), one window pass per unit, attempts followed step by step,
    the best attempt per unit, units per step."""
    spec = bound.query.funnel
    assert spec is not None
    tf = bound.timeframe
    end = tf.end_utc + spec.window_delta
    if tf.now is not None:
        end = max(tf.start_utc, min(end, to_utc(tf.now, bound.project.tz)))
    scan = _scan(bound, spec.members, [], tf.start_utc, end, "range + the window", list(spec.hold))
    entries = spec.members if spec.order == "any" else spec.steps[0].members
    first = _scan(bound, entries, [], tf.start_utc, tf.end_utc, "", [])
    groups = ", ".join(bound.query.breakdown)
    keys = ("entry " if tf.grain != "total" else "") + f"bucket({tf.grain})" + (f", {groups}" if groups else "")
    operators: list[Operator] = [_join(bound)] if _user_props(bound, spec.members, []) else []
    attempts = int(first.rows * first.selectivity)
    capabilities = bound.flavor.capabilities
    form, why = choose_form(
        spec.order,
        len(spec.steps),
        bool(spec.hold),
        len(spec.exclude),
        (capabilities.asof_join, capabilities.ordered_lists),
        scan.rows,
        attempts,
        bound.catalog.user_rows,
    )

    def events(members: list[EventFilter]) -> Match:
        return match(bound.flavor, bound.catalog, members)

    step_match = StepMatch(
        tuple(events(step.members) for step in spec.steps),
        spec.window,
        spec.order,
        scan.rows,
        attempts,
        events(spec.members),
        spec.window_delta,
        tuple(bound.catalog.resolve(name, f"funnel > hold[{i}]") for i, name in enumerate(spec.hold)),
        tuple(Exclusion(events(x.members), *spec.exclusion_steps(x)) for x in spec.exclude),
        form,
    )
    operators.append(step_match)
    if bound.query.breakdown and bound.query.breakdown_limit is not None:
        operators.append(FunnelTopN(bound.query.breakdown_limit))
    operators += [BestAttempt(keys), StepAggregate(keys, len(spec.steps))]
    labels = " -> ".join(step.name for step in spec.steps)
    post = [
        "fill every entry bucket x group x step with 0; conversion and from_previous from the counts",
        "sort by breakdown values, bucket, step",
    ]
    node = AnalysisNode("funnel", labels, tf, scan, operators, start=tf.start_utc, end=end, exact_time=True)
    return LogicalPlan([], post=post, analysis=node, decisions=[f"funnel ({bound.flavor.name}): {why}"])


def _cohort(bound: BoundQuery, behaviour: Behaviour) -> CohortReduction | None:
    """The per-unit reduction of the query's behavioural conditions: one scan per event table,
    estimated over the hull of its conditions' windows (None: only user conditions)."""
    if not behaviour.checks:
        return None
    scans: list[CohortScan] = []
    tables: list[EventTableInfo] = []
    for check in behaviour.checks:
        tables += [t for t in check.tables if t not in tables]
    conditions = [_cohort_condition(bound, k, check) for k, check in enumerate(behaviour.checks)]
    for info in tables:
        on_table = [c for c in behaviour.checks if info in c.tables]
        windows = [c.window for c in on_table]
        start = None if any(w is None for w in windows) else min(w.start_utc for w in windows if w is not None)
        end = max((w.end_utc for w in windows if w is not None), default=datetime.max)
        rows, total, _note = series_rows(bound.catalog, info, start or datetime.min, end)
        partitioned = info.spec.partition is not None and start is not None
        served = tuple(c for c, check in zip(conditions, behaviour.checks, strict=True) if info in check.tables)
        scans.append(CohortScan(info, served, rows, total, partitioned))
    uses: list[str] = []
    if behaviour.segment is not None and behaviour.segment.terms:
        join = "anti-join (units without such events belong)" if behaviour.segment.without_history else "semi-join"
        uses.append(f"segment: {join} of the rows' unit on the flags")
    uses += [
        f"category {c.name}: first of {len(c.groups)} groups, else {c.other!r}" for c in behaviour.categories.values()
    ]
    reads = [c for check in behaviour.checks for c in _conditions(check.spec)]
    props = [bound.catalog.resolve(c.property, "plan") for c in reads]
    props += [bound.unit.prop] if bound.unit.on_user_table and bound.unit.prop is not None else []
    joined = user_tables(bound.catalog, props)
    return CohortReduction(tuple(scans), tuple(uses), Join(joined) if joined else None)


def _cohort_condition(bound: BoundQuery, flag: int, check: Check) -> CohortCondition:
    """One behavioural condition as the reduction's flag: its events and filters as typed
    predicates, its own window on its tables, its threshold."""
    spec, window = check.spec, check.window
    tables = list(check.tables)
    time = None if window is None else time_range(bound.flavor, tables, window.start_utc, window.end_utc)
    having = spec.having
    threshold = None
    if having is not None:
        values = tuple(having.values) if having.values is not None else None
        column = None if having.prop is None else bound.catalog.resolve(having.prop, f"{check.location} > having")
        threshold = Threshold(having.aggregate, having.prop, having.op, having.value, values, column)
    events = match(bound.flavor, bound.catalog, spec.members, spec.where)
    return CohortCondition(flag, check.text, check.location, events, time, threshold)


def _entry_by_windows(bound: BoundQuery, starts: tuple[str, ...], late: set[str], own: list[str]) -> bool:
    """A first-time cohort's entry by windows over the unit's rows: where the dialect prefers them
    (``per_unit_windows``; not with start-event values and no user property joined late: then
    the entry is numbered over the start rows only, PostgreSQL 7.0 s vs 8.9 s at 10M), or for a
    unit other than the user with groups of its own (the join back would meet every group's rows)."""
    preferred = bound.flavor.capabilities.per_unit_windows and not (starts and not late)
    return preferred or (not bound.unit.is_user and bool(own))


def _rolling_length(windows: str, grain: str) -> str | None:
    """A rolling retention period's length as explain says it (None: calendar periods)."""
    return {"hour": "1 hour", "day": "24 hours", "week": "7 x 24 hours"}.get(grain) if windows == "rolling" else None


def _retention(bound: BoundQuery) -> LogicalPlan:
    """Retention: one scan of the start and return events (first_time: the start events' whole
    history, for each unit's first; recurring: from the range's start) up to now, reduced per
    (unit, bucket), cohorts and return periods per unit, units counted per cohort and period."""
    spec = bound.query.retention
    assert spec is not None
    tf = bound.timeframe
    frame = retention_frame(tf, spec.periods)
    first = spec.start_mode == "first_time"
    begin = None if first else tf.start_utc
    scan = _scan(bound, spec.members, [], begin, frame.now_utc, "up to now", [])
    groups = ", ".join(bound.query.breakdown)
    keys = f"bucket({tf.grain})" + (f", {groups}" if groups else "")
    late = _late_props(bound)  # joined to the cohort members after the reduction
    starts = tuple(b for b in bound.query.breakdown if _start_value(bound, b))
    # a unit other than the user with groups of its own (segment, categories) needs its entry by
    # windows over its rows: the join back would meet the unit's rows of every group
    own = [b for b in bound.query.breakdown if b not in late and b not in starts]
    reduced_by = ", ".join([f"bucket({tf.grain})", *[b for b in bound.query.breakdown if b not in late]])
    matched = int(scan.rows * scan.selectivity)
    reduced = min(matched, max(1, matched // 4))  # several events per (user, bucket)
    cohorts = frame.cohorts
    operators: list[Operator] = [_join(bound, late)] if _user_props(bound, spec.members, [], skip=late) else []
    per_cohort = 1 if spec.cumulative else spec.periods
    operators += [
        Cohorts(
            spec.start_mode,
            reduced_by,
            reduced,
            match(bound.flavor, bound.catalog, spec.start.folded),
            match(bound.flavor, bound.catalog, spec.returning.folded),
            match(bound.flavor, bound.catalog, spec.members),
            starts,
            _entry_by_windows(bound, starts, late, own),
        ),
        *([_member_join(bound, late)] if late else []),
        ReturnPeriods(
            spec.periods,
            frame,
            spec.cumulative,
            reduced * per_cohort,
            _rolling_length(spec.windows, tf.grain),
        ),
        RetentionCounts(keys, cohorts * (spec.periods + 1)),
    ]
    post = ["fill every cohort x group x reported period with 0", "summary rows (cohort null) per group and period"]
    if spec.cumulative:
        post.insert(0, "on or after: the counts of period k and later, summed")
    if bound.query.breakdown_limit is not None and bound.query.breakdown:
        post.insert(0, f"top {bound.query.breakdown_limit} groups by summed cohort size, the rest -> Other")
    post.append("sort by cohort (summary last), breakdown values, period")
    start_event = spec.start.event if isinstance(spec.start.event, str) else "any_of"
    return_event = spec.returning.event if isinstance(spec.returning.event, str) else "any_of"
    node = AnalysisNode("retention", f"{start_event} -> {return_event}", tf, scan, operators, begin, frame.now_utc)
    return LogicalPlan([], post=post, analysis=node)


def _start_value(bound: BoundQuery, name: str) -> bool:
    """A retention breakdown read from the start event (bind checked the name): its property, or
    with a unit other than the user a user property (of the start event's user)."""
    if name in ("event", "segment") or bound.is_category(name):
        return False
    source = bound.catalog.resolve(name, "breakdown").source
    return source == EVENT_PROPERTY or (source == USER_PROPERTY and not bound.unit.is_user)


def _late_props(bound: BoundQuery) -> set[str]:
    """The retention breakdowns joined from the user tables after the per-user reduction: user
    properties when the unit is the user (``segwise.lower.retention_groups.late_groups``)."""
    if not bound.unit.is_user:
        return set()
    names = [b for b in bound.query.breakdown if b not in ("event", "segment") and not bound.is_category(b)]
    return {n for n in names if bound.catalog.resolve(n, "breakdown").source == USER_PROPERTY}


def _operators(bound: BoundQuery, series: Series, measure: Measure, tf: Timeframe, index: int) -> list[Operator]:
    """The operators above a series' scan, bottom first."""
    query = bound.query
    ops: list[Operator] = []
    if _user_props(bound, series.members, list(series.where), measured=measure.prop):
        ops.append(_join(bound))
    if series.occurrence:
        ops.append(Window(series.occurrence, series.occurrence_scope))
    groups = ", ".join(query.breakdown)
    keys = f"bucket({tf.grain})" + (f", {groups}" if groups else "")
    if query.breakdown_limit is not None and query.breakdown:
        ops.append(TopN(query.breakdown_limit, users_are_units=bound.unit.is_user))
    family = measure.definition.family
    prop = bound.catalog.resolve(measure.prop, f"{bound.where(index)} > measure") if measure.prop else None
    if family == "rolling":
        window = measure.window_days or 1
        ops += [PreAggregate("days"), Intervals(window), spine(tf), Aggregate(str(measure), keys, "edges", prop)]
    elif family in ("per_user", "frequency"):
        ops += [PreAggregate("per_user", keys), Aggregate(str(measure), keys, "across", prop)]
    else:
        ops.append(Aggregate(str(measure), keys, prop=prop))
    return ops


def _user_props(
    bound: BoundQuery,
    members: list[EventFilter],
    where: list[Condition],
    skip: set[str] | None = None,
    measured: str | None = None,
) -> bool:
    """Whether the scan joins the user tables (a user property in a filter, the breakdown — but
    ``skip``, joined later —, the ``measured`` property or the segment)."""
    query = bound.query
    names = [c.property for m in members for c in m.where] + [c.property for c in where]
    names += [measured] if measured else []
    names += [
        b
        for b in query.breakdown
        if b not in ("event", "segment") and not bound.is_category(b) and b not in (skip or set())
    ]
    behaviour = cohorts.resolve(bound)
    if bound.unit.on_user_table or (
        behaviour is not None
        and (
            (behaviour.segment is not None and behaviour.segment.user_where)
            or any(c.user_where for g in behaviour.categories.values() for _label, c in g.groups)
        )
    ):
        return True
    return any(bound.catalog.resolve(n, "plan").source == USER_PROPERTY for n in names)


def _join(bound: BoundQuery, skip: set[str] | None = None) -> Join:
    """The user tables the query's rows may read (filters, breakdowns but ``skip``, the segment's
    and categories' user conditions, measured properties, the unit's id) and their columns."""
    query = bound.query
    names = [
        c.property
        for field in type(query).model_fields
        if field != "categories"
        for c in _conditions(getattr(query, field))
    ]
    names += [
        b
        for b in query.breakdown
        if b not in ("event", "segment") and not bound.is_category(b) and b not in (skip or set())
    ]
    names += [item.measure.prop for item in bound.items if item.measure.prop]
    behaviour = cohorts.resolve(bound)
    if behaviour is not None:
        conjunctions = [behaviour.segment] if behaviour.segment is not None else []
        conjunctions += [c for g in behaviour.categories.values() for _label, c in g.groups]
        names += [cond.property for c in conjunctions for cond, _where in c.user_where]
    props = [bound.catalog.resolve(n, "plan") for n in names]
    props += [bound.unit.prop] if bound.unit.on_user_table and bound.unit.prop is not None else []
    return Join(user_tables(bound.catalog, props))


def _member_join(bound: BoundQuery, late: set[str]) -> MemberJoin:
    """Retention's join of the user tables to the cohort members: the ``late`` breakdowns."""
    names = tuple(b for b in bound.query.breakdown if b in late)
    props = [bound.catalog.resolve(n, "plan") for n in names]
    return MemberJoin(user_tables(bound.catalog, props), names=names)


def _conditions(value: object) -> Iterator[Condition]:
    """Every condition in a query model (its fields, lists and mappings, walked)."""
    if isinstance(value, Condition):
        yield value
    elif isinstance(value, BaseModel):
        for field in type(value).model_fields:
            yield from _conditions(getattr(value, field))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _conditions(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _conditions(item)


# The plan of each analysis other than a segmentation (``Query.analysis``): one builder each.
ANALYSIS_PLANS: dict[str, Callable[[BoundQuery], LogicalPlan]] = {
    "stickiness": _stickiness,
    "lifecycle": _lifecycle,
    "funnel": _funnel,
    "retention": _retention,
}
