"""Retention's scan reduced per unit, bucket and groups (the CTE ``ru`` of ``retention`` and
``retention_rolling``).

Recurring cohorts read the events of [range start, now) in one scan. First-time cohorts also need
each unit's start events before the range (a unit whose first start event is earlier enters no
cohort), so their rows are the start events of the whole history and the returns from the range's
start. Read as one scan filtered on ``start OR (return AND time >= range start)``, no row group or
partition can be skipped (every one may hold a start event) and the OR is checked on every row.
Here they are two disjoint scans in one statement, ``UNION ALL`` of

1. the start events before the range's start (the whole history: an index on the event name, a
   pushed-down filter), and
2. the start and return events of [range start, now) (pruned by row group or partition),

and the reduction reads their union: no row is read twice, every row of the one-scan form is in
exactly one branch (the branches split on the event time), so ``ru`` is the same table.

Where the project's zone has one UTC offset around the range's start, the branch decides the
return test's time condition (local time at or after the range's start): false in the first
branch, true in the second. There it is replaced by that constant and folded (``_r``: 0 in the
first, the return test alone or 1 in the second; the second's filter: the start or return test,
none with ``return: any``), so no row evaluates it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlglot import exp

from .rows import TimeBounds, group_key

if TYPE_CHECKING:
    from .rows import RowSource
    from .state import Lowering

ROWS = "x"  # the alias of the two branches' union


def reduced(
    lw: Lowering,
    source: RowSource,
    is_start: exp.Expr,
    keys: list[tuple[str | None, exp.Expr]],
    values: list[tuple[str, exp.Expr]],
    returned: exp.Expr | None,
    from_start: exp.Expr | None = None,
    returns: tuple[str, ...] = (),
) -> exp.Select:
    """``SELECT keys, values FROM`` the source's rows with a unit (the first key) ``GROUP BY keys``; a key without
    a name is grouped by and not selected; ``values`` are ``MIN``/``MAX`` of a row expression (or
    a constant). ``returned`` (first_time): a row's return test from the range's start — the rows
    read are the start events and those returns; ``from_start``: its time condition (local time
    at or after the range's start), which each branch decides where the zone allows; ``returns``:
    values read only for units without a row of the first branch (a unit whose first start event is
    before the range enters no cohort), so where the second branch decides one to a constant it is
    that constant (``return: any``: ``_r`` 1, no aggregate)."""
    user = keys[0][1]
    known = exp.Not(this=exp.Is(this=user.copy(), expression=exp.Null()))
    split = _bounds(lw, source) if returned is not None else None
    if returned is None or split is None:  # one scan
        if returned is not None:
            source.extra_filters.append(exp.paren(exp.or_(is_start.copy(), returned.copy())))
        outputs = [e.as_(n) for n, e in (*keys, *values) if n is not None]
        rows = source.select(outputs).where(known, copy=False)
        return rows.group_by(*[group_key(e) for _, e in keys], copy=False)
    named = [(n if n is not None else f"_h{j}", e) for j, (n, e) in enumerate(keys)]
    before, within = split
    tests = [is_start, exp.paren(exp.or_(is_start.copy(), returned.copy()))]
    decided = from_start if from_start is not None and fixed_offset(lw, lw.analysis_range.start_utc) else None
    if decided is not None:  # a return value the second branch makes constant: constant (see above)
        constant = {n: _decide(_row(e), decided, True) for n, e in values if n in returns}
        values = [(n, constant[n] if isinstance(constant.get(n), exp.Literal) else e) for n, e in values]
    branches = []
    for bounds, test, side in zip((before, within), tests, (False, True), strict=True):
        inner = [e.copy().as_(n) for n, e in named]
        inner += [_decide(_row(e), decided, side).as_(n) for n, e in values if not isinstance(e, exp.Literal)]
        test = _decide(test, decided, side)
        where = None if isinstance(test, exp.Boolean) and test.this else test
        branches.append(source.select_within(inner, bounds, where).where(known.copy(), copy=False))
    union = exp.union(branches[0], branches[1], distinct=False)
    outer: list[exp.Expr] = [exp.column(n, table=ROWS).as_(n) for n, _ in keys if n is not None]
    outer += [_outer(n, e) for n, e in values]
    table = exp.Subquery(this=union, alias=exp.TableAlias(this=exp.to_identifier(ROWS)))
    return exp.select(*outer).from_(table).group_by(*[exp.column(n, table=ROWS) for n, _ in named], copy=False)


def _bounds(lw: Lowering, source: RowSource) -> tuple[TimeBounds, TimeBounds] | None:
    """The two branches' time bounds: [history start, range start) and [range start, now); None
    when the scan is not the whole history or the range starts at or after now (one scan)."""
    bounds, start = source.bounds, lw.analysis_range.start_utc
    if bounds.start_utc is not None or start is None or (bounds.end_utc is not None and start >= bounds.end_utc):
        return None
    return TimeBounds(None, start), TimeBounds(start, bounds.end_utc)


def fixed_offset(lw: Lowering, utc: datetime) -> bool:
    """The project's zone has one UTC offset from a day before ``utc`` to a day after: local time
    is at or after ``utc``'s local time exactly when UTC time is at or after ``utc``."""
    tz, instant, day = ZoneInfo(lw.analysis_range.timezone), utc.replace(tzinfo=UTC), timedelta(days=1)
    return (instant - day).astimezone(tz).utcoffset() == (instant + day).astimezone(tz).utcoffset()


def _decide(row: exp.Expr, condition: exp.Expr | None, value: bool) -> exp.Expr:
    """``row`` with ``condition`` (a branch's known time condition) replaced by ``value`` and
    folded; unchanged when it does not contain it or folds to a bare NULL (untyped, a UNION's
    first branch would type the column as text on PostgreSQL)."""
    if condition is None:
        return row.copy()
    replaced = row.copy().transform(lambda node: exp.Boolean(this=value) if node == condition else node)
    if replaced == row:
        return replaced
    folded = None
    while folded != replaced:  # to a fixed point (small trees)
        folded, replaced = replaced, replaced.transform(_fold)
    return row.copy() if isinstance(folded, exp.Null) else folded


def _fold(node: exp.Expr) -> exp.Expr:
    """One step of folding a constant TRUE/FALSE: in AND/OR, parentheses and CASE branches."""
    if isinstance(node, exp.Paren) and isinstance(node.this, exp.Boolean):
        return node.this.copy()
    if isinstance(node, (exp.And, exp.Or)):
        conjunction = isinstance(node, exp.And)
        for known, other in ((node.left, node.right), (node.right, node.left)):
            if isinstance(known, exp.Boolean):  # x AND TRUE = x, x AND FALSE = FALSE; OR the other way
                return other.copy() if known.this == conjunction else exp.Boolean(this=not conjunction)
    if isinstance(node, exp.Case) and node.this is None:
        ifs = [i for i in node.args["ifs"] if not (isinstance(i.this, exp.Boolean) and not i.this.this)]
        if ifs and isinstance(ifs[0].this, exp.Boolean):  # the first branch always taken
            return ifs[0].args["true"].copy()
        default = node.args.get("default")
        if not ifs:
            return default.copy() if default is not None else exp.Null()
        if len(ifs) < len(node.args["ifs"]):
            return exp.Case(ifs=[i.copy() for i in ifs], default=default.copy() if default is not None else None)
    return node


def _row(value: exp.Expr) -> exp.Expr:
    """The row expression a ``MIN``/``MAX`` value reduces."""
    assert isinstance(value, (exp.Min, exp.Max)), value
    return value.this.copy()


def _outer(name: str, value: exp.Expr) -> exp.Expr:
    """A value reduced over the union's rows (a constant stays a constant)."""
    if isinstance(value, exp.Literal):
        return value.copy().as_(name)
    return type(value)(this=exp.column(name, table=ROWS)).as_(name)
