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
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
) -> exp.Select:
    """``SELECT keys, values FROM`` the source's rows with a unit (the first key) ``GROUP BY keys``; a key without
    a name is grouped by and not selected; ``values`` are ``MIN``/``MAX`` of a row expression (or
    a constant). ``returned`` (first_time): a row's return test from the range's start — the rows
    read are the start events and those returns."""
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
    inner = [e.as_(n) for n, e in named] + [_row(e).as_(n) for n, e in values if not isinstance(e, exp.Literal)]
    before, within = split
    tests = [is_start, exp.paren(exp.or_(is_start.copy(), returned.copy()))]
    branches = [
        source.select_within([o.copy() for o in inner], bounds, test.copy()).where(known.copy(), copy=False)
        for bounds, test in zip((before, within), tests, strict=True)
    ]
    union = exp.union(branches[0], branches[1], distinct=False)
    outer: list[exp.Expr] = [exp.column(n, table=ROWS).as_(n) for n, _ in keys if n is not None]
    outer += [_outer(n, e) for n, e in values]
    table = exp.Subquery(this=union, alias=exp.TableAlias(this=exp.to_identifier(ROWS)))
    return exp.select(*outer).from_(table).group_by(*[exp.column(n, table=ROWS) for n, _ in named], copy=False)


def _bounds(lw: Lowering, source: RowSource) -> tuple[TimeBounds, TimeBounds] | None:
    """The two branches' time bounds: [history start, range start) and [range start, now); None
    when the scan is not the whole history or the range starts at or after now (one scan)."""
    bounds, start = source.bounds, lw.tf.start_utc
    if bounds.start_utc is not None or start is None or (bounds.end_utc is not None and start >= bounds.end_utc):
        return None
    return TimeBounds(None, start), TimeBounds(start, bounds.end_utc)


def _row(value: exp.Expr) -> exp.Expr:
    """The row expression a ``MIN``/``MAX`` value reduces."""
    assert isinstance(value, (exp.Min, exp.Max)), value
    return value.this.copy()


def _outer(name: str, value: exp.Expr) -> exp.Expr:
    """A value reduced over the union's rows (a constant stays a constant)."""
    if isinstance(value, exp.Literal):
        return value.copy().as_(name)
    return type(value)(this=exp.column(name, table=ROWS)).as_(name)
