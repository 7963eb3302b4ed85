"""Serving a relative range's answer at a later "now", only where it is provably the same answer.

A relative range (``last: 30d``) is resolved against "now" before compiling, so the statement of
the same question a moment later holds other time literals: ``[now - 30 days, now)`` moved by the
seconds that passed. The answer may differ (an event at the old start leaves the range; a row
dated between the two "now"s enters it), so the result cache (``segwise.cache``) must not serve it
on its key alone. This module proves, for one pair of statements, that it does not differ:

1. **Only literals moved.** The new statement's tree is the old one's node for node, except for
   literals (:func:`moved_literals`); both answers come from the same data (the same data
   version, read again after the proof, see ``segwise.dispatch``).
2. **Each moved literal is a bound on one stored table's rows.** It sits (under casts) as one
   side of a comparison (``<``, ``<=``, ``>``, ``>=``, ``=``, ``<>``) whose other side is computed
   from columns of *one stored table* of that query scope: the columns themselves or deterministic
   functions of them (SQLite's ``STRFTIME(fmt, t)``), no subquery, aggregate, window or random
   value. A column of a derived table or CTE counts when it passes a stored table's column on
   unchanged (``SELECT e.*`` or ``e.t AS t``, resolved with sqlglot's scopes) or is computed from
   one row of one stored table the same way (a funnel's ``EPOCH_US(e.t) AS _t``): its values are
   that computation on the table's rows. ``MIN(x)`` / ``MAX(x)``, also over a window, is one of
   the rows' values of ``x`` (a first-time retention's first start event), so it counts as ``x``.
   A column of a ``UNION ALL`` counts when every branch computes it alike from the same stored
   table (a first-time retention's two disjoint scans of the events). Never through the side of
   an outer join that may be padded with NULLs. So the comparison is evaluated on values of that
   table's rows only (:func:`probes`).
3. **No row tells the two apart.** For each such table, one probe statement
   ``SELECT 1 FROM t AS a WHERE (c_old AND NOT c_new) OR (c_new AND NOT c_old) ... LIMIT 1``
   (the statement's own comparisons, with the old and the new literal) finds no row.

Then every comparison has the same value on every row under both statements, so every other
expression, and the answer, is the same: the old answer *is* the new statement's answer. Anything
else (a literal inside an arithmetic expression, a bucket list, a comparison with another
aggregate such as a sum or a count, another node that differs, the clock read in SQL) proves
nothing and the statement is sent as usual. A NULL compares NULL under both literals, so
it never tells them apart.

The probe is cheap where the warehouse can skip rows by the column's range (DuckDB's zone maps on a
time-ordered table, an index on the event time in PostgreSQL or SQLite): it reads the rows between
the old and the new bound, not the table; without either it reads the column once.
"""

from __future__ import annotations

import re

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, traverse_scope

_COMPARISONS = (exp.GT, exp.GTE, exp.LT, exp.LTE, exp.EQ, exp.NEQ)

# Literals that may move with "now": timestamps and dates as text, microsecond counts. Masking
# more than moves only makes two statements share a template; the tree comparison decides.
_MOVING = re.compile(r"'\d{4}-\d\d-\d\d(?:[ T]\d\d:\d\d(?::\d\d(?:\.\d+)?)?)?'|(?<![\w.\"'])\d{12,}(?![\w.\"'])")


def template(sql: str) -> str:
    """``sql`` with its time literals masked: statements of one question at another "now" share it."""
    return _MOVING.sub("?", sql)


def moved_literals(old: exp.Expr, new: exp.Expr) -> list[tuple[exp.Literal, exp.Literal]] | None:
    """The pairs (old literal, new literal) where the two trees differ, or None when they differ
    anywhere else (another node type, argument, list length or plain value)."""
    moved: list[tuple[exp.Literal, exp.Literal]] = []
    stack: list[tuple[exp.Expr, exp.Expr]] = [(old, new)]
    while stack:
        a, b = stack.pop()
        if type(a) is not type(b):
            return None
        if isinstance(a, exp.Literal):
            assert isinstance(b, exp.Literal)
            if a.args.get("is_string") != b.args.get("is_string"):
                return None
            if a.this != b.this:
                moved.append((a, b))
            continue
        for key in a.args.keys() | b.args.keys():
            x, y = a.args.get(key), b.args.get(key)
            if isinstance(x, list) or isinstance(y, list):
                if not isinstance(x, list) or not isinstance(y, list) or len(x) != len(y):
                    return None
                pairs = list(zip(x, y, strict=True))
            else:
                pairs = [(x, y)]
            for u, v in pairs:
                if isinstance(u, exp.Expr) and isinstance(v, exp.Expr):
                    stack.append((u, v))
                elif isinstance(u, exp.Expr) or isinstance(v, exp.Expr) or u != v:
                    return None
    return moved


def probes(new: exp.Expr, moved: list[tuple[exp.Literal, exp.Literal]]) -> list[exp.Select] | None:
    """The probe statements proving ``new`` answers as the statement it was compared with (see
    the module's docstring): one per (table, alias), each finding a row that tells the old and the
    new literals apart; None when some moved literal is not a bound on a base table's column."""
    if new.find(exp.CurrentTimestamp, exp.CurrentDate, exp.CurrentTime, exp.CurrentDatetime) is not None:
        return None  # the statement reads the clock itself: nothing to prove against
    scopes = _scope_of_nodes(new)
    moving = {id(new_literal) for _, new_literal in moved}
    changed: dict[tuple[str, str], tuple[exp.Table, list[exp.Expr]]] = {}
    for old_literal, new_literal in moved:
        bound = _bound(new_literal, old_literal, scopes, moving)
        if bound is None:
            return None
        table, condition = bound
        key = (table.sql(), table.alias_or_name)
        entry = changed.setdefault(key, (table, []))
        if all(condition != other for other in entry[1]):
            entry[1].append(condition)
    return [
        exp.select(exp.Literal.number(1).as_("moved")).from_(table.copy()).where(exp.or_(*conditions)).limit(1)
        for table, conditions in changed.values()
    ]


def _bound(
    new_literal: exp.Literal, old_literal: exp.Literal, scopes: dict[int, Scope], moving: set[int]
) -> tuple[exp.Table, exp.Expr] | None:
    """The stored table and the condition "this row compares differently" of one moved literal,
    or None when the literal is not one side of a comparison whose other side is computed from one
    row of one stored table (its columns, deterministic functions of them: no subquery, aggregate,
    window or random value)."""
    node: exp.Expr = new_literal
    while isinstance(node.parent, exp.Cast) and node.arg_key == "this":
        node = node.parent
    comparison = node.parent
    if not isinstance(comparison, _COMPARISONS) or node.arg_key not in ("this", "expression"):
        return None
    other = _one_row(comparison.expression if node.arg_key == "this" else comparison.this)
    if other.find(exp.Query, exp.Subquery, exp.AggFunc, exp.Window, exp.Rand) is not None:
        return None
    if any(id(n) in moving for n in other.find_all(exp.Literal)):
        return None  # both sides move: not one bound
    scope = scopes.get(id(comparison))
    on_rows = other.copy()  # the compiled tree is shared: never changed
    columns = list(zip(other.find_all(exp.Column), on_rows.find_all(exp.Column), strict=True))
    if scope is None or not columns:
        return None
    table: exp.Table | None = None
    for column, copied in columns:
        if not column.table or column.args.get("db") or column.args.get("catalog") or column.is_star:
            return None
        stored = _stored(scope, column.table, column.name, moving)
        if stored is None or (table is not None and stored[0] is not table):
            return None
        table, own = stored  # the value as computed from the table's own columns
        if copied is on_rows:
            on_rows = own
        else:
            copied.replace(own)
    assert table is not None
    with_new = comparison.copy()
    with_new.set("this" if node.arg_key == "expression" else "expression", on_rows)
    with_old = with_new.copy()
    with_old.set(node.arg_key, node.copy().transform(lambda n: old_literal.copy() if n == new_literal else n))
    differs = exp.or_(
        exp.and_(with_old.copy(), exp.not_(with_new.copy())), exp.and_(with_new.copy(), exp.not_(with_old.copy()))
    )
    return table, differs


def _one_row(expression: exp.Expr) -> exp.Expr:
    """The argument of ``MIN(x)`` / ``MAX(x)``, also over a window (``MIN(x) OVER (PARTITION BY
    u)``): their value is one of the rows' values of ``x`` (or NULL), so a comparison with it is
    decided by that row's comparison (a first-time retention's first start event); any other
    expression as it is."""
    if isinstance(expression, exp.Window) and isinstance(expression.this, (exp.Min, exp.Max)):
        expression = expression.this
    if isinstance(expression, (exp.Min, exp.Max)) and not expression.expressions:
        return expression.this
    return expression


def _stored(scope: Scope, alias: str, name: str, moving: set[int], depth: int = 0) -> tuple[exp.Table, exp.Expr] | None:
    """The stored table whose rows the column ``alias.name`` of ``scope`` is computed from, and
    that computation over the table's own columns (``"alias"."column"``), or None. Through derived
    tables and CTEs: a column selected plainly or with ``*`` passes the inner one's value on; one
    computed from the columns of one stored table by deterministic functions (no subquery,
    aggregate, window or random value: a funnel's microsecond time ``EPOCH_US(e.t)``) takes its
    value from one row of that table. Never through the side of an outer join that may be padded
    with NULLs (a function of a padded NULL need not be NULL) or an outer query's alias; through a
    set operation only where every branch computes the column alike (:func:`_set_operation`)."""
    if _padded(scope, alias):
        return None
    source = scope.sources.get(alias)
    if isinstance(source, exp.Table):
        return (source, exp.column(name, table=source.alias_or_name, quoted=True)) if source.name else None
    if not isinstance(source, Scope) or depth > 8:
        return None
    if isinstance(source.expression, exp.SetOperation):
        names = source.expression.named_selects  # the first branch's: the others match by position
        return _set_operation(source, names.index(name), moving, depth) if names.count(name) == 1 else None
    if not isinstance(source.expression, exp.Select):
        return None
    selects = source.expression.selects
    stars = [p for p in selects if isinstance(p, exp.Star) or (isinstance(p, exp.Column) and p.is_star)]
    named = [p for p in selects if all(p is not star for star in stars) and p.alias_or_name == name]
    if named:  # a projection of that name (and no star that may hold another)
        return _computed(source, named[0].unalias(), moving, depth) if len(named) == 1 and not stars else None
    if len(stars) != 1:
        return None
    star = stars[0]
    table = star.table if isinstance(star, exp.Column) else None
    if not table and len(source.sources) == 1:
        table = next(iter(source.sources))
    return _stored(source, table, name, moving, depth + 1) if table else None


def _set_operation(scope: Scope, position: int, moving: set[int], depth: int) -> tuple[exp.Table, exp.Expr] | None:
    """Column ``position`` of a set operation (``UNION ALL`` of a first-time retention's two
    disjoint scans) as computed from one row of one stored table, or None. Each row of the result
    is a row of one branch, and branches match columns by position: when every branch computes
    that column the same way from the same stored table (the same table and alias, the same
    computation), its value on any row of the result is that computation on one of the table's
    rows, so a probe over the table's rows covers every branch."""
    found: list[tuple[exp.Table, exp.Expr]] = []
    for branch in scope.set_operation_scopes:
        if isinstance(branch.expression, exp.SetOperation):
            inner = _set_operation(branch, position, moving, depth + 1)
        elif isinstance(branch.expression, exp.Select) and 0 <= position < len(branch.expression.selects):
            projection = branch.expression.selects[position]
            if isinstance(projection, exp.Star) or (isinstance(projection, exp.Column) and projection.is_star):
                return None
            inner = _computed(branch, projection.unalias(), moving, depth + 1)
        else:
            return None
        if inner is None:
            return None
        found.append(inner)
    if not found:
        return None
    table, computed = found[0]
    same = all(t.sql() == table.sql() and c.sql() == computed.sql() for t, c in found[1:])
    return (table, computed) if same else None


def _computed(scope: Scope, expression: exp.Expr, moving: set[int], depth: int) -> tuple[exp.Table, exp.Expr] | None:
    """A projection of ``scope`` as computed from one row of one stored table (its own columns;
    ``MIN(x)`` / ``MAX(x)``: the value of ``x`` on one of the rows), or None. A literal that moves
    inside it proves nothing (the computation would differ between the two statements)."""
    expression = _one_row(expression)
    if expression.find(exp.Query, exp.Subquery, exp.AggFunc, exp.Window, exp.Rand, exp.Star) is not None:
        return None
    if any(id(n) in moving for n in expression.find_all(exp.Literal)):
        return None
    computed = expression.copy()  # the compiled tree is shared: never changed
    pairs = list(zip(expression.find_all(exp.Column), computed.find_all(exp.Column), strict=True))
    if not pairs:
        return None  # a constant: not a bound on any row
    table: exp.Table | None = None
    for column, copied in pairs:
        if not column.table or column.args.get("db") or column.args.get("catalog"):
            return None
        inner = _stored(scope, column.table, column.name, moving, depth + 1)
        if inner is None or (table is not None and inner[0] is not table):
            return None
        table = inner[0]
        if copied is computed:
            computed = inner[1]
        else:
            copied.replace(inner[1])
    assert table is not None
    return table, computed


def _padded(scope: Scope, alias: str) -> bool:
    """Whether the source ``alias`` of ``scope`` may be padded with NULLs by an outer join."""
    joins = scope.expression.args.get("joins") or [] if isinstance(scope.expression, exp.Select) else []
    for join in joins:
        side = (join.side or "").upper()
        if side in ("RIGHT", "FULL") or (side == "LEFT" and join.alias_or_name == alias):
            return True
    return False


def _scope_of_nodes(tree: exp.Expr) -> dict[int, Scope]:
    """Each node's innermost query scope, by node identity."""
    found: dict[int, Scope] = {}
    for scope in traverse_scope(tree):  # inner scopes first: a node keeps its innermost scope
        for node in scope.walk():
            found.setdefault(id(node), scope)
    return found
