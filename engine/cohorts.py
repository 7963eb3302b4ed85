"""Behavioural segments, named cohorts and categories, resolved against the project and catalog.

A segment is a conjunction: every ``did`` condition holds, no ``did_not`` condition's ``did``
holds, every named ``cohort`` holds (its own segment, expanded), every ``user_where`` condition
holds. A category is an ordered list of such conjunctions (first match wins, ``else`` for the
rest). :func:`resolve` flattens the query's segment and the categories its breakdown names into
one :class:`Behaviour`: the distinct behavioural conditions (:class:`Check`, each with its window
resolved against the query's ``now``) and the conjunctions over them. The planner turns it into
one per-unit reduction (``plan.CohortReduction``); lowering (``lower/cohort.py``) renders it.

Errors name the query or the project file: ``segment > did[1] > having > measure``,
``cohorts > buyers > did[0] > event``, ``categories > tier > of[2] > segment > cohort``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlglot import exp

from .bind import _check_conditions, _in_tables, _tables
from .catalog import USER_PROPERTY
from .conditions import NUMERIC, build_condition
from .errors import SpecError
from .timeframe import resolve_range

if TYPE_CHECKING:
    from .bind import BoundQuery
    from .catalog import EventTableInfo
    from .query_parts import Category, Condition, Segment, SegmentEvent
    from .timeframe import Timeframe


@dataclass(frozen=True)
class Check:
    """One behavioural condition ``did C``: a unit has a matching event in the window whose
    aggregate satisfies ``having`` (a ``did_not`` is its negation, a term of a conjunction)."""

    spec: SegmentEvent
    window: Timeframe | None  # None: the unit's whole history
    location: str
    tables: tuple[EventTableInfo, ...]

    @property
    def text(self) -> str:
        event = self.spec.event if isinstance(self.spec.event, str) else " or ".join(m.event for m in self.spec.members)
        where = f" where {len(self.spec.where)} condition(s)" if self.spec.where else ""
        window = " ever"
        if self.spec.date_range is not None:
            window = f" in {self.spec.date_range.model_dump(mode='json', by_alias=True)}"
        having = self.spec.having
        threshold = ""
        if having is not None:
            operand = having.values if having.op == "between" else having.value
            threshold = f" having {having.measure} {having.op} {operand}"
        return f"{event}{where}{window}{threshold}"


@dataclass(frozen=True)
class Conjunction:
    """A segment flattened: behavioural terms ``(check index, negated)`` and user conditions
    (with where they were written), all of which must hold."""

    terms: tuple[tuple[int, bool], ...]
    user_where: tuple[tuple[Condition, str], ...] = ()

    @property
    def without_history(self) -> bool:
        """Whether the behavioural terms hold for a unit with no event of any condition (then
        the unit is absent from the reduction): only ``did_not`` terms."""
        return all(negated for _, negated in self.terms)


@dataclass(frozen=True)
class CategoryGroups:
    """A category used as a breakdown: its labels' conjunctions in order, and ``else``."""

    name: str
    groups: tuple[tuple[str, Conjunction], ...]
    other: str

    @property
    def labels(self) -> tuple[str, ...]:
        return (*(label for label, _ in self.groups), self.other)


@dataclass(frozen=True)
class Behaviour:
    """What a query asks of units' behaviour: the distinct conditions, the segment and the
    categories its breakdown uses (by name)."""

    checks: tuple[Check, ...]
    segment: Conjunction | None
    categories: dict[str, CategoryGroups] = field(default_factory=dict)

    def category(self, name: str) -> CategoryGroups | None:
        return self.categories.get(name)


def category_definitions(bound: BoundQuery) -> dict[str, Category]:
    """The categories a query may break down by: the project's, then the query's (which win)."""
    return {**bound.project.categories, **bound.query.categories}


def resolve(bound: BoundQuery) -> Behaviour | None:
    """The query's segment and category breakdowns, flattened and checked (None when it has
    neither a segment nor a category breakdown)."""
    builder = _Builder(bound)
    segment = bound.query.segment
    conjunction = builder.flatten(segment, "segment", ()) if segment is not None else None
    categories: dict[str, CategoryGroups] = {}
    definitions = category_definitions(bound)
    for name in bound.query.breakdown:
        if name not in definitions:
            continue
        origin = "categories" if name in bound.query.categories else f"{bound.project.origin} > categories"
        definition = definitions[name]
        groups = tuple(
            (item.label, builder.flatten(item.segment, f"{origin} > {name} > of[{i}] > segment", ()))
            for i, item in enumerate(definition.of)
        )
        categories[name] = CategoryGroups(name, groups, definition.else_)
    if conjunction is None and not categories:
        return None
    return Behaviour(tuple(builder.checks), conjunction, categories)


class _Builder:
    """Flattens segments into conjunctions over one list of distinct checks."""

    def __init__(self, bound: BoundQuery) -> None:
        self.bound = bound
        self.checks: list[Check] = []
        self._index: dict[str, int] = {}

    def flatten(self, segment: Segment, location: str, seen: tuple[str, ...]) -> Conjunction:
        terms: list[tuple[int, bool]] = []
        users: list[tuple[Condition, str]] = []
        for key, negated in (("did", False), ("did_not", True)):
            for index, spec in enumerate(getattr(segment, key)):
                terms.append((self._check(spec, f"{location} > {key}[{index}]"), negated))
        for index, cond in enumerate(segment.user_where):
            where = f"{location} > user_where[{index}]"
            self._user_condition(cond, where)
            users.append((cond, where))
        cohorts = self.bound.project.cohorts
        for index, name in enumerate(segment.cohort):
            where = f"{location} > cohort" + (f"[{index}]" if len(segment.cohort) > 1 else "")
            if name not in cohorts:
                known = ", ".join(sorted(cohorts)) or "none are declared (project file, `cohorts:`)"
                raise SpecError(f"unknown cohort {name!r} (cohorts: {known})", where=where)
            if name in seen:
                raise SpecError(f"cohort {name!r} refers to itself ({' > '.join([*seen, name])})", where=where)
            inner = self.flatten(cohorts[name], f"{self.bound.project.origin} > cohorts > {name}", (*seen, name))
            terms += inner.terms
            users += inner.user_where
        return Conjunction(tuple(dict.fromkeys(terms)), tuple(users))

    def _check(self, spec: SegmentEvent, location: str) -> int:
        key = spec.model_dump_json()
        if key in self._index:
            return self._index[key]
        bound = self.bound
        tables = _tables(bound.catalog, spec.members, location)
        _check_conditions(bound.catalog, tables, spec.members, list(spec.where), location, bound.flavor)
        having = spec.having
        if having is not None and having.prop is not None:
            prop = _in_tables(bound.catalog, tables, having.prop, f"{location} > having > measure")
            if prop.source == USER_PROPERTY or prop.kind not in NUMERIC:
                what = "a user property" if prop.source == USER_PROPERTY else f"{prop.kind}"
                raise SpecError(
                    f"having {having.measure!r} needs a numeric event property, but {having.prop!r} is {what}",
                    where=f"{location} > having > measure",
                )
        window = None
        if spec.date_range is not None:
            window = resolve_range(spec.date_range, bound.project.timezone, bound.timeframe.now)
        self._index[key] = len(self.checks)
        self.checks.append(Check(spec, window, location, tuple(tables)))
        return self._index[key]

    def _user_condition(self, cond: Condition, where: str) -> None:
        unit = self.bound.unit
        if not unit.is_user:  # the query's segment is checked in bind; named cohorts and categories here
            raise SpecError(
                f"user_where picks users, but this query counts {unit.name} units; a {unit.name} is not one user",
                where=where,
                hint="drop the user_where condition, or count users (unit: user)",
            )
        prop = self.bound.catalog.resolve(cond.property, f"{where} > property")
        if prop.source != USER_PROPERTY:
            raise SpecError(
                f"segment user_where takes user properties; {cond.property!r} is an event property", where=where
            )
        build_condition(self.bound.flavor, exp.column("_"), prop, cond, where)
