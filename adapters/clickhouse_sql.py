"""Rewrites of a statement for ClickHouse's engine (``ClickHouseFlavor.prepare``): same rows, a
form ClickHouse runs well or at all.

* ``cross_join_without_keys``: an inner join whose ``ON`` has no equality (the rolling-window
  spine) becomes a ``CROSS JOIN`` plus ``WHERE`` (older ClickHouse releases need an equality
  key in every ``JOIN ... ON``).
* ``distinct_as_group_by``: ``SELECT DISTINCT a AS x, b AS y FROM ...`` becomes ``SELECT a AS x,
  b AS y FROM ... GROUP BY a, b``. The rows are the same (both keep one row per distinct tuple,
  NULLs equal), but ClickHouse runs ``DISTINCT`` through its distinct transform and ``GROUP BY``
  through its (two-level, parallel) aggregator: on the 50M benchmark (chDB 4.4 = ClickHouse 26.9,
  2 threads) the distinct (user, day) pairs of 19.3M events (4.58M pairs) took 42-45 s as
  ``DISTINCT`` and 11-13 s as ``GROUP BY``, alternated in one process (docs/scaling.md). The
  per-user lowerings (rolling masks, lifecycle, stickiness, retention) start from such a
  ``DISTINCT``.
"""

from __future__ import annotations

from sqlglot import exp


def cross_join_without_keys(select: exp.Select) -> None:
    for join in select.args.get("joins") or []:
        on = join.args.get("on")
        if on is None or join.side or join.kind not in ("", "INNER", None):
            continue
        if any(True for _ in on.find_all(exp.EQ, exp.NullSafeEQ)):
            continue
        join.set("on", None)
        join.set("kind", "CROSS")
        select.where(on, copy=False)


def distinct_as_group_by(select: exp.Select) -> None:
    """A plain ``SELECT DISTINCT`` (no ``DISTINCT ON``, grouping, aggregate, window, order or
    limit) as the same ``SELECT`` grouped by its non-constant expressions. A literal key is left
    out: ClickHouse reads a number in ``GROUP BY`` as a position, and a constant splits nothing."""
    distinct = select.args.get("distinct")
    if distinct is None or distinct.args.get("on") is not None:
        return
    if any(select.args.get(k) for k in ("group", "having", "order", "limit", "offset", "qualify")):
        return
    values = [p.unalias() for p in select.expressions]
    if any(isinstance(v, exp.Star) or v.find(exp.AggFunc, exp.Window, exp.Star) for v in values):
        return
    keys = [v.copy() for v in values if not isinstance(v, exp.Literal | exp.Null | exp.Boolean)]
    if not keys:
        return
    select.set("distinct", None)
    select.set("group", exp.Group(expressions=keys))
