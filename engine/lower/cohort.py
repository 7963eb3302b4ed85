"""Behavioural segments, cohorts and categories: the per-unit reduction and membership.

The plan's :class:`~segwise.plan.CohortReduction` becomes one CTE ``_cohort``, built once per
statement: one scan per event table of every condition's events (each condition's own window,
event-time filter and partition predicate, ORed; the scan as a whole bounded by their hull),
grouped by unit, one 0/1 flag ``_fK`` per condition (``did`` holds: at least one matching event
and the ``having`` threshold met)::

    _cohort AS (SELECT e.user_id AS _u,     -- the unit's id (``unit: account``: its column)
                       CASE WHEN COUNT(*) >= 1 AND COUNT(*) >= 3 THEN 1 ELSE 0 END AS _f0
                FROM events AS e WHERE <purchase in the last 30 days> GROUP BY e.user_id)

Several tables are read as ``UNION ALL`` of such pruned scans projecting the unit, a 0/1 match
per condition, the local day and the measured properties, then grouped. A segment (a
conjunction) is then a semi-join of the rows' unit on the flags (``IN (SELECT _u FROM _cohort
WHERE ...)``), or, when a unit with no such events belongs (only ``did_not``), an anti-join on
the complement; user conditions apply on the row after the user join. A category is a ``CASE``
over its groups' memberships, first match wins. No list of ids ever leaves the warehouse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from segwise.catalog import EVENT_PROPERTY, USER_PROPERTY, ResolvedProperty

from .rows import NULL_TYPES, RowSource, TimeBounds, and_all, table_ref

if TYPE_CHECKING:
    from segwise.catalog import EventTableInfo
    from segwise.cohorts import CategoryGroups, Conjunction
    from segwise.plan_events import CohortCondition
    from segwise.plan_users import Join

    from .state import Lowering

CTE = "_cohort"
UNIT = "_u"
DAY = "_d"


def reduction(lw: Lowering) -> str:
    """The name of the per-unit reduction CTE, added to the statement the first time."""
    if not any(name == CTE for name, _ in lw.ctes):
        assert lw.logical.cohort is not None, "the planner plans the reduction of the behavioural conditions"
        lw.ctes.append((CTE, _reduction(lw, lw.logical.cohort.conditions)))
    return CTE


def membership(lw: Lowering, unit: exp.Expr, conjunction: Conjunction, prop_of: RowSource) -> exp.Expr:
    """Whether the row's ``unit`` is in ``conjunction`` (user conditions on ``prop_of``'s user join)."""
    parts: list[exp.Expr] = []
    if conjunction.terms:
        flags = [
            exp.EQ(this=exp.column(f"_f{k}"), expression=exp.Literal.number(0 if negated else 1))
            for k, negated in conjunction.terms
        ]
        holds = and_all(flags)
        assert holds is not None
        members = exp.select(exp.column(UNIT)).from_(table_ref(reduction(lw)))
        if conjunction.without_history:  # absent units belong: exclude the present ones that do not
            inside = exp.In(this=unit.copy(), query=exp.Subquery(this=members.where(exp.Not(this=exp.paren(holds)))))
            parts.append(exp.Not(this=inside))
        else:
            parts.append(exp.In(this=unit.copy(), query=exp.Subquery(this=members.where(holds))))
    for cond, _where in conjunction.user_where:  # the plan's predicate, on the column its join reads
        predicate = lw.groups.user_condition(cond)
        assert predicate.prop is not None, "the planner resolves a user condition's property"
        parts.append(predicate.column_in(prop_of.prop(predicate.prop)))
    return and_all(parts) or exp.true()


def category_group(lw: Lowering, source: RowSource, category: CategoryGroups) -> exp.Expr:
    """The row's label of ``category``: the first group whose segment holds for the row's unit,
    else ``else`` (also for rows without a unit id)."""
    unit = source.user()
    ifs = [exp.If(this=exp.Is(this=unit.copy(), expression=exp.Null()), true=exp.Literal.string(category.other))]
    ifs += [
        exp.If(this=membership(lw, unit, conjunction, source), true=exp.Literal.string(label))
        for label, conjunction in category.groups
    ]
    return exp.Case(ifs=ifs, default=exp.Literal.string(category.other))


# -- the reduction --------------------------------------------------------------------------------------


def _source(lw: Lowering, check: CohortCondition) -> RowSource:
    """A condition's rows as the plan says: the tables of the reduction's scans serving its flag,
    its events, its filters' expressions, its window."""
    assert lw.logical.cohort is not None, "the planner plans the reduction of the behavioural conditions"
    tables = [scan.info for scan in lw.logical.cohort.scans if check.flag in (c.flag for c in scan.conditions)]
    # the plan's scans, not the catalog's tables (bind checked every name)
    source = RowSource(lw, list(check.match.members), list(check.match.where), None, check.location, tables)
    source.events, source.planned = check.match.events, check.match.planned
    source.users = _users(lw)
    if check.window is not None:
        source.bounds, source.time = TimeBounds(check.window.start, check.window.end), check.window
    return source


def _reduction(lw: Lowering, checks: tuple[CohortCondition, ...]) -> exp.Select:
    sources = [_source(lw, c) for c in checks]
    tables: list[EventTableInfo] = []
    for source in sources:
        tables += [t for t in source.tables if t not in tables]
    if len(tables) == 1:  # one scan, aggregated directly
        info = tables[0]
        on_table = list(range(len(checks)))
        rows, match = _rows(lw, info, sources, on_table, checks)
        unit = _unit(lw, info)
        lone = len(checks) == 1  # the scan's WHERE is the condition: no per-row match needed
        flags = [
            _flag(check, None if lone else match[k], rows.get(f"_v{k}"), rows.get(DAY))
            for k, check in enumerate(checks)
        ]
        select = _scan_select(lw, info, sources, on_table, [unit.as_(UNIT), *flags_as(flags)])
        return select.group_by(unit.copy(), copy=False)
    branches: list[exp.Expr] = []
    for info in tables:
        on_table = [k for k, source in enumerate(sources) if info in source.tables]
        rows, match = _rows(lw, info, sources, on_table, checks)
        outputs: list[exp.Expr] = [_unit(lw, info).as_(UNIT)]
        for k, check in enumerate(checks):
            hit: exp.Expr = exp.Literal.number(0)  # a condition whose events are not in this table
            if k in match:
                hit = exp.Case(ifs=[exp.If(this=match[k], true=exp.Literal.number(1))], default=exp.Literal.number(0))
            outputs.append(hit.as_(f"_k{k}"))
            if check.threshold is not None and check.threshold.column is not None:
                value = rows.get(f"_v{k}", exp.cast(exp.Null(), exp.DataType.Type.DOUBLE))
                outputs.append(value.as_(f"_v{k}"))
        if DAY in _needs(checks):
            outputs.append(rows.get(DAY, exp.cast(exp.Null(), exp.DataType.Type.TIMESTAMP)).as_(DAY))
        branches.append(_scan_select(lw, info, sources, on_table, outputs))
    union = branches[0]
    for branch in branches[1:]:
        union = exp.union(union, branch, distinct=False, copy=False)
    flags = [
        _flag(
            check,
            exp.EQ(this=exp.column(f"_k{k}", table="c"), expression=exp.Literal.number(1)),
            exp.column(f"_v{k}", table="c"),
            exp.column(DAY, table="c"),
        )
        for k, check in enumerate(checks)
    ]
    derived = exp.Subquery(this=union, alias=exp.TableAlias(this=exp.to_identifier("c")))
    unit = exp.column(UNIT, table="c")
    select = exp.select(unit.as_(UNIT), *flags_as(flags)).from_(derived, copy=False)
    return select.group_by(unit.copy(), copy=False)


def _users(lw: Lowering) -> Join | None:
    """The plan's join of the user tables the reduction's scans read."""
    assert lw.logical.cohort is not None, "the planner plans the reduction of the behavioural conditions"
    return lw.logical.cohort.users


def _unit(lw: Lowering, info: EventTableInfo) -> exp.Expr:
    """A row ``e`` of ``info``'s unit id (the plan's unit, as ``RowSource.user()`` reads it):
    the user id, the event's column (NULL on a table without it) or the joined user table's."""
    prop = lw.unit.prop
    if prop is None:
        return exp.column(info.spec.user_id, table="e", quoted=True)
    if prop.source == USER_PROPERTY:  # joined on the user id in _scan_select
        users = _users(lw)
        assert users is not None and prop.user_table is not None, "the plan joins the unit's user table"
        return users.table(prop.user_table).column(prop.column, f"u{prop.user_table}")
    if prop.column not in info.columns:
        return exp.cast(exp.Null(), NULL_TYPES.get(prop.kind, exp.DataType.Type.VARCHAR))
    return exp.column(prop.column, table="e", quoted=True)


def flags_as(flags: list[exp.Expr]) -> list[exp.Expr]:
    return [flag.as_(f"_f{k}") for k, flag in enumerate(flags)]


def _needs(checks: tuple[CohortCondition, ...]) -> set[str]:
    return {DAY for c in checks if c.threshold is not None and c.threshold.aggregate == "active_days"}


def _rows(
    lw: Lowering,
    info: EventTableInfo,
    sources: list[RowSource],
    on_table: list[int],
    checks: tuple[CohortCondition, ...],
) -> tuple[dict[str, exp.Expr], dict[int, exp.Expr]]:
    """The per-row values one table's scan offers (``_vK`` measured properties, ``_d`` the local
    day) and each of its conditions' match, over alias ``e``."""
    rows: dict[str, exp.Expr] = {}
    match: dict[int, exp.Expr] = {}
    for k in on_table:
        source = sources[k]
        match[k] = and_all(_match(source, info)) or exp.true()
        having = checks[k].threshold
        if having is not None and having.column is not None:  # the plan's property, resolved
            prop = having.column
            source.check_read(prop, f"{source.location} > having > measure")
            rows[f"_v{k}"] = exp.cast(_value(source, info, prop), exp.DataType.Type.DOUBLE)
        if having is not None and having.aggregate == "active_days":
            rows[DAY] = lw.flavor.truncate("day", source._branch_local_time(info, "e"))
    return rows, match


def _value(source: RowSource, info: EventTableInfo, prop: ResolvedProperty) -> exp.Expr:
    if prop.column not in info.columns:
        kind = NULL_TYPES.get(prop.kind, exp.DataType.Type.DOUBLE)
        return exp.cast(exp.Null(), kind)
    return source._branch_prop(info, ResolvedProperty(prop.name, EVENT_PROPERTY, prop.column, prop.kind), "e")


def _match(source: RowSource, info: EventTableInfo) -> list[exp.Expr]:
    """One condition's filters on one table's row ``e``: its window (event time and partition
    predicate), its events and their filters, its own filters (user properties via the joins)."""
    parts = source._time_filter(info, "e", source.bounds)
    member = source._member_filter(info, "e")
    if member is not None:
        parts.append(member)
    for index, cond in enumerate(source.where):
        parts.append(source.condition(cond, f"{source.location} > where[{index}]", info, "e"))
    return parts


def _scan_select(
    lw: Lowering, info: EventTableInfo, sources: list[RowSource], on_table: list[int], outputs: list[exp.Expr]
) -> exp.Select:
    """``SELECT outputs FROM table e [user joins] WHERE unit not null AND (match OR ...) AND hull``."""
    user_id = exp.column(info.spec.user_id, table="e", quoted=True)
    unit = _unit(lw, info)
    matches = [and_all(_match(sources[k], info)) or exp.true() for k in on_table]
    matches = list({m.sql(): m for m in matches}.values())  # conditions differing only in `having` read alike
    either = matches[0] if len(matches) == 1 else exp.paren(exp.or_(*matches, copy=False), copy=False)
    filters: list[exp.Expr] = [exp.Not(this=exp.Is(this=unit.copy(), expression=exp.Null())), either]
    if len(on_table) > 1:
        filters += _hull(sources, on_table, info)
    select = exp.select(*outputs, copy=False).from_(info.ref.expression(alias="e"), copy=False)
    joins: dict[int, str] = {}
    for k in on_table:
        joins.update(sources[k].user_joins)
    if lw.unit.on_user_table:  # the unit id is a user-table column
        assert lw.unit.prop is not None and lw.unit.prop.user_table is not None
        joins.setdefault(lw.unit.prop.user_table, f"u{lw.unit.prop.user_table}")
    if joins:
        users = _users(lw)
        assert users is not None, "the plan joins the user tables the reduction reads"
        select = users.join(select, joins, user_id)
    return select.where(and_all(filters), copy=False)


def _hull(sources: list[RowSource], on_table: list[int], info: EventTableInfo) -> list[exp.Expr]:
    """The smallest time range (and partition predicate) covering every condition's window on
    this table, so the scan prunes as a whole; nothing when one of them reads all history."""
    bounds = [sources[k].bounds for k in on_table]
    if any(b.start_utc is None or b.end_utc is None for b in bounds):
        return []
    low = min(b.start_utc for b in bounds if b.start_utc is not None)
    high = max(b.end_utc for b in bounds if b.end_utc is not None)
    return sources[on_table[0]]._time_filter(info, "e", TimeBounds(low, high))


def _flag(check: CohortCondition, match: exp.Expr | None, value: exp.Expr | None, day: exp.Expr | None) -> exp.Expr:
    """``CASE WHEN <at least one matching event> AND <having> THEN 1 ELSE 0 END`` over a unit's rows."""

    def only(expr: exp.Expr) -> exp.Expr:
        if match is None:
            return expr.copy()
        return exp.Case(ifs=[exp.If(this=match.copy(), true=expr.copy())])

    events = exp.Count(this=exp.Star()) if match is None else exp.Count(this=only(exp.Literal.number(1)))
    holds: list[exp.Expr] = [exp.GTE(this=events, expression=exp.Literal.number(1))]
    having = check.threshold
    if having is not None:
        aggregate: exp.Expr
        if having.aggregate == "events":
            aggregate = events.copy()
        elif having.aggregate == "active_days":
            assert day is not None
            aggregate = exp.Count(this=exp.Distinct(expressions=[only(day)]))
        else:
            assert value is not None
            kind = {"sum": exp.Sum, "avg": exp.Avg, "min": exp.Min, "max": exp.Max}[having.aggregate]
            aggregate = kind(this=only(value))
        holds.append(having.test(aggregate))
    return exp.Case(ifs=[exp.If(this=exp.and_(*holds), true=exp.Literal.number(1))], default=exp.Literal.number(0))
