"""The reference for behavioural segments, named cohorts and categories, written from
ANALYSES.md ("Behavioural segments, named cohorts, categories") and docs/queries.md in plain
Python over the oracle's rows, independent of the engine.

A ``did`` condition holds for a user with at least one matching event in its window (local
``[from, to)``; none: ever) whose aggregate satisfies ``having``: ``events`` (their number),
``active_days`` (distinct local days), ``sum/avg/min/max:P`` over the non-null values of P
(none: no value, which satisfies no threshold). ``did_not C`` holds exactly when ``did C`` does
not. A segment holds when all of its parts hold (named cohorts expanded). A category's value is
the label of the first group whose segment holds, else its ``else`` (default ``other``); a row
without a user id is in no segment and gets ``else``.

"User" is the row's unit: the callers (``tests/oracle.py``, ``tests/oracle_analyses.py`` for
stickiness, lifecycle, funnels and retention) build the rows with ``unit_of``
(``tests/oracle_units.py``), so a segment or category with ``unit: account`` counts the account's
events; ``user_where`` is refused with a unit other than ``user`` (``per_unit``: the id is no user's).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.oracle_conditions import Resolver, Row, condition_holds, condition_list, series_matches
from tests.oracle_time import date_range

Test = Callable[[Any], bool]


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _compare(aggregate: float | None, having: dict[str, Any]) -> bool:
    if aggregate is None:
        return False
    op = having["op"]
    if op == "between":
        low, high = having["values"]
        return low <= aggregate <= high
    value = having["value"]
    return {
        "eq": aggregate == value,
        "neq": aggregate != value,
        "gt": aggregate > value,
        "gte": aggregate >= value,
        "lt": aggregate < value,
        "lte": aggregate <= value,
    }[op]


class Behaviour:
    """Decides segments and categories over one query's rows."""

    def __init__(
        self,
        rows: list[Row],
        resolver: Resolver,
        users_by_id: dict[Any, dict[str, Any]],
        tz: ZoneInfo,
        now: datetime | None,
        cohorts: dict[str, Any] | None = None,
        per_unit: bool = False,
    ) -> None:
        self.per_unit = per_unit  # the rows' ids are units other than users (``unit_of`` given)
        self.rows = rows
        self.resolver = resolver
        self.users_by_id = users_by_id
        self.tz = tz
        self.now = now
        self.cohorts = cohorts or {}

    def who_did(self, spec: dict[str, Any]) -> set[Any]:
        """The users for whom ``did spec`` holds."""
        window = date_range(spec["date_range"], self.tz, self.now) if spec.get("date_range") else None
        by_user: dict[Any, list[Row]] = {}
        for r in self.rows:
            if r.user_id is None or (window is not None and not window[0] <= r.local < window[1]):
                continue
            if series_matches(spec, r, self.resolver):
                by_user.setdefault(r.user_id, []).append(r)
        having = spec.get("having")
        if having is None:
            return set(by_user)
        measure = having["measure"]
        out = set()
        for user, rows in by_user.items():
            if measure == "events":
                aggregate: float | None = len(rows)
            elif measure == "active_days":
                aggregate = len({r.day for r in rows})
            else:
                kind, prop = measure.split(":", 1)
                values = [v for v in (self.resolver.value(prop, r) for r in rows) if v is not None]
                if not values:
                    aggregate = None
                elif kind == "sum":
                    aggregate = sum(values)
                elif kind == "avg":
                    aggregate = sum(values) / len(values)
                elif kind == "min":
                    aggregate = min(values)
                else:
                    aggregate = max(values)
            if _compare(aggregate, having):
                out.add(user)
        return out

    def segment(self, segment: dict[str, Any], seen: tuple[str, ...] = ()) -> Test:
        """A function user id -> whether the user is in ``segment`` (a null id never is)."""
        did = [self.who_did(spec) for spec in _listed(segment.get("did"))]
        did_not = [self.who_did(spec) for spec in _listed(segment.get("did_not"))]
        user_where = condition_list(segment.get("user_where"))
        if user_where and self.per_unit:
            raise ValueError("oracle: user_where picks users, not units")
        for cond in user_where:
            if self.resolver.source(cond["property"])[0] != "user":
                raise ValueError(f"oracle: user_where takes user properties, not {cond['property']!r}")
        named = []
        for name in _listed(segment.get("cohort")):
            if name in seen:
                raise ValueError(f"oracle: cohort {name!r} refers to itself")
            named.append(self.segment(self.cohorts[name], (*seen, name)))

        def test(user_id: Any) -> bool:
            if user_id is None:
                return False
            if any(user_id not in users for users in did) or any(user_id in users for users in did_not):
                return False
            user = self.users_by_id.get(user_id)
            if not all(
                condition_holds(c, None if user is None else user.get(self.resolver.source(c["property"])[1]))
                for c in user_where
            ):
                return False
            return all(inner(user_id) for inner in named)

        return test

    def category(self, definition: dict[str, Any]) -> Callable[[Any], str]:
        """A function user id -> the user's label of the category."""
        groups = [(item["label"], self.segment(item["segment"])) for item in definition["of"]]
        other = definition.get("else", "other")

        def label(user_id: Any) -> str:
            return next((name for name, test in groups if test(user_id)), other)

        return label


def category_order(definition: dict[str, Any]) -> list[str]:
    """A category's values in the order results list them: declaration order, ``else`` last."""
    return [item["label"] for item in definition["of"]] + [definition.get("else", "other")]


def group_sort_key(definitions: list[dict[str, Any] | None]) -> Callable[[tuple[str | None, ...]], tuple[Any, ...]]:
    """How results order breakdown groups: text ascending, nulls last; a category's values in
    declaration order, ``else`` last (``definitions``: each breakdown's category or None)."""
    orders = [None if d is None else category_order(d) for d in definitions]

    def key(group: tuple[str | None, ...]) -> tuple[Any, ...]:
        parts: list[Any] = []
        for value, order in zip(group, orders, strict=True):
            if order is not None and value in order:
                parts.append((False, order.index(value), ""))
            else:
                parts.append((value is None, len(order or ()), "" if value is None else value))
        return tuple(parts)

    return key
