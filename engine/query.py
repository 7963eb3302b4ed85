"""The query language: validated, immutable models of a segmentation question.

A query is loaded from YAML, JSON, a dict, or built in Python::

    >>> q = Query.parse({"series": [{"event": "signup", "measure": "unique_users"}],
    ...                  "date_range": {"from": "2025-01-01", "to": "2025-02-01"},
    ...                  "time_grain": "week"})
    >>> q.series[0].label
    'A'

Semantics are documented in ``docs/queries.md``; names follow ``DESIGN.md``.
"""

from __future__ import annotations

import builtins
import re
import string
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    field_validator,
    model_validator,
)

from .errors import SpecError
from .loading import load_mapping, validate_model

Scalar = bool | int | float | datetime | date | str

Operator = Literal[
    "eq",
    "neq",
    "in",
    "not_in",
    "gt",
    "gte",
    "lt",
    "lte",
    "between",
    "contains",
    "not_contains",
    "starts_with",
    "is_null",
    "is_not_null",
]
SINGLE_VALUE_OPS = frozenset({"eq", "neq", "gt", "gte", "lt", "lte", "contains", "not_contains", "starts_with"})
LIST_OPS = frozenset({"in", "not_in"})
NO_VALUE_OPS = frozenset({"is_null", "is_not_null"})
TEXT_OPS = frozenset({"contains", "not_contains", "starts_with"})
ORDER_OPS = frozenset({"gt", "gte", "lt", "lte", "between"})

TimeGrain = Literal["hour", "day", "week", "month", "quarter", "year", "total"]
ANY_EVENT = "any"


def _as_list(value: Any) -> Any:
    """Accept a single item where a list is expected (``breakdown: country``)."""
    if value is None:
        return []
    if isinstance(value, (str, dict)):
        return [value]
    return value


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Condition(_Model):
    """One filter: ``{property: brand, op: eq, value: artex}``."""

    property: str = Field(min_length=1)
    op: Operator
    value: Scalar | None = None
    values: list[Scalar] | None = None

    @model_validator(mode="after")
    def _operands(self) -> Self:
        op = self.op
        if op in SINGLE_VALUE_OPS:
            if self.value is None:
                hint = " (use is_null to match missing values)" if op in ("eq", "neq") else ""
                raise ValueError(f"operator '{op}' needs `value`{hint}")
            if self.values is not None:
                raise ValueError(f"operator '{op}' takes `value`, not `values`")
            if op in TEXT_OPS and not isinstance(self.value, str):
                raise ValueError(f"operator '{op}' needs a text `value`, got {self.value!r}")
        elif op in LIST_OPS:
            if not self.values:
                raise ValueError(f"operator '{op}' needs a non-empty list `values`")
            if self.value is not None:
                raise ValueError(f"operator '{op}' takes `values` (a list), not `value`")
            if any(v is None for v in self.values):
                raise ValueError(f"operator '{op}': `values` may not contain null; use is_null")
        elif op == "between":
            if self.values is None or len(self.values) != 2:
                raise ValueError("operator 'between' needs `values: [low, high]` (inclusive)")
            if self.value is not None:
                raise ValueError("operator 'between' takes `values: [low, high]`, not `value`")
        elif self.value is not None or self.values is not None:
            raise ValueError(f"operator '{op}' takes no value")
        return self

    @builtins.property  # the field `property` shadows the builtin in this class body
    def operands(self) -> list[Scalar]:
        if self.op in NO_VALUE_OPS:
            return []
        if self.value is not None:
            return [self.value]
        return list(self.values or [])


Where = Annotated[list[Condition], BeforeValidator(_as_list)]


class EventFilter(_Model):
    """One member of a combined event: an event name with its own filters."""

    event: str = Field(min_length=1)
    where: Where = []

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, data: Any) -> Any:
        return {"event": data} if isinstance(data, str) else data


class AnyOf(_Model):
    """A custom combined event: ``{any_of: [view, {event: purchase, where: [...]}]}``."""

    any_of: list[EventFilter] = Field(min_length=1)


class Series(_Model):
    """One line of the chart: an event (or combined event), filters and a measure."""

    event: Annotated[
        Annotated[str, Tag("name")] | Annotated[AnyOf, Tag("combined")],
        Discriminator(lambda v: "combined" if isinstance(v, (dict, AnyOf)) else "name"),
    ]
    where: Where = []
    measure: str = "events"
    label: str | None = Field(default=None, min_length=1, max_length=200)
    occurrence: Literal["first", "last"] | None = None
    occurrence_scope: Literal["ever", "range"] = "ever"

    @field_validator("event", mode="before")
    @classmethod
    def _event_list(cls, value: Any) -> Any:
        if isinstance(value, list):
            names = ", ".join(str(v) for v in value)
            raise ValueError(f"`event` is one event name; to count any of several, write event: {{any_of: [{names}]}}")
        return value

    @field_validator("event")
    @classmethod
    def _event_name(cls, value: str | AnyOf) -> str | AnyOf:
        if isinstance(value, str) and not value:
            raise ValueError("event name is empty; use an event name, 'any' or {any_of: [...]}")
        return value

    @field_validator("measure")
    @classmethod
    def _measure(cls, value: str) -> str:
        from .measures import check_syntax

        # Raises ValueError naming what to write; an unknown name may be a plugin's, which
        # binding resolves against the registry.
        check_syntax(value)
        return value.strip()

    @property
    def members(self) -> list[EventFilter]:
        """The event(s) this series counts, each with its own filters (series `where` excluded)."""
        if isinstance(self.event, AnyOf):
            return list(self.event.any_of)
        return [EventFilter(event=self.event)]


_RELATIVE = re.compile(r"^\s*(\d+)\s*(h|d|w|m|q|y)\s*$", re.IGNORECASE)
RELATIVE_UNITS = {"h": "hours", "d": "days", "w": "weeks", "m": "months", "q": "quarters", "y": "years"}


class AbsoluteRange(_Model):
    """Half-open ``[from, to)`` in the project's time zone; dates mean midnight."""

    from_: datetime | date = Field(alias="from")
    to: datetime | date

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if _as_datetime(self.to) <= _as_datetime(self.from_):
            raise ValueError(f"`to` ({self.to}) must be after `from` ({self.from_}); the range is half-open [from, to)")
        return self


class RelativeRange(_Model):
    """``{last: 30d}``: the span ending at "now" (``--now`` / ``now=``), e.g. 30d, 4w, 3m, 1y, 12h."""

    last: str

    @field_validator("last", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> str:
        text = str(value)
        match = _RELATIVE.match(text)
        if not match or int(match.group(1)) <= 0:
            raise ValueError(
                f"`last` must be a positive number and a unit h, d, w, m, q or y (like 30d, 4w, 3m); got {text!r}"
            )
        return f"{int(match.group(1))}{match.group(2).lower()}"

    @property
    def amount(self) -> int:
        return int(self.last[:-1])

    @property
    def unit(self) -> str:
        return RELATIVE_UNITS[self.last[-1]]


def _range_kind(value: Any) -> str:
    if isinstance(value, RelativeRange) or (isinstance(value, dict) and "last" in value):
        return "relative"
    return "absolute"


_WORDS = re.compile(r"^\s*(?:last|past)\s+(\d+)\s*([a-z]+)\s*$", re.IGNORECASE)


def _range_text(value: Any) -> Any:
    """A date range written as text (``last 30 days``, ``30d``) gets the mapping to write instead."""
    if not isinstance(value, str):
        return value
    words = _WORDS.match(value)
    relative = _RELATIVE.match(value)
    if words and words.group(2).lower()[:1] in RELATIVE_UNITS and words.group(2).lower() not in ("mins", "minutes"):
        suggestion = f"{{last: {int(words.group(1))}{words.group(2).lower()[0]}}}"
    elif relative:
        suggestion = f"{{last: {int(relative.group(1))}{relative.group(2).lower()}}}"
    else:
        suggestion = "{last: 30d}"
    raise ValueError(
        f"a date range is a mapping, not text: write {suggestion} (or {{from: 2025-01-01, to: 2025-02-01}}); "
        f"got {value!r}"
    )


DateRange = Annotated[
    Annotated[AbsoluteRange, Tag("absolute")] | Annotated[RelativeRange, Tag("relative")],
    Discriminator(_range_kind),
    BeforeValidator(_range_text),
]


def _as_datetime(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime(value.year, value.month, value.day)


class SegmentEvent(_Model):
    """Users who did (or did not do) an event with filters, in a window or ever."""

    event: Annotated[
        Annotated[str, Tag("name")] | Annotated[AnyOf, Tag("combined")],
        Discriminator(lambda v: "combined" if isinstance(v, (dict, AnyOf)) else "name"),
    ]
    where: Where = []
    date_range: DateRange | None = None

    @property
    def members(self) -> list[EventFilter]:
        if isinstance(self.event, AnyOf):
            return list(self.event.any_of)
        return [EventFilter(event=self.event)]


class Segment(_Model):
    """Restrict every series to these users (or break down by in / not in)."""

    did: SegmentEvent | None = None
    did_not: SegmentEvent | None = None
    user_where: Where = []

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.did is None and self.did_not is None and not self.user_where:
            raise ValueError("a segment needs at least one of `did`, `did_not` or `user_where`")
        return self


class Stickiness(_Model):
    """``stickiness: {event: feature_used, where: [...]}``: on how many days of each bucket units
    do the event (docs/queries.md, "Stickiness")."""

    event: Annotated[
        Annotated[str, Tag("name")] | Annotated[AnyOf, Tag("combined")],
        Discriminator(lambda v: "combined" if isinstance(v, (dict, AnyOf)) else "name"),
    ]
    where: Where = []

    @property
    def members(self) -> list[EventFilter]:
        if isinstance(self.event, AnyOf):
            return list(self.event.any_of)
        return [EventFilter(event=self.event)]


# A lifecycle answer's statuses, in the order the answer is sorted (docs/queries.md, "Lifecycle").
LIFECYCLE_STATUSES = ("new", "returning", "resurrecting", "dormant")


class Lifecycle(Stickiness):
    """``lifecycle: {event: page_view, where: [...]}``: per bucket, users who are new,
    returning, resurrecting or dormant (docs/queries.md, "Lifecycle")."""


class Formula(_Model):
    """``{label: conversion, expression: "B / A * 100"}``."""

    label: str = Field(min_length=1, max_length=200)
    expression: str

    @field_validator("expression")
    @classmethod
    def _parse(cls, value: str) -> str:
        from .formulas import parse_formula

        parse_formula(value)
        return value


class Query(_Model):
    """One question: a segmentation (``series``) or another analysis (``stickiness``,
    ``lifecycle``). See
    ``docs/queries.md`` for every field."""

    series: list[Series] = Field(default=[], max_length=26 * 4)
    stickiness: Stickiness | None = None
    lifecycle: Lifecycle | None = None
    cumulative: bool = False  # stickiness: units active on at least (not exactly) `days` days
    date_range: DateRange = Field(default_factory=lambda: RelativeRange(last="30d"))
    time_grain: TimeGrain = "day"
    breakdown: Annotated[list[str], BeforeValidator(_as_list)] = []
    breakdown_limit: int | None = Field(default=None, ge=1, le=10_000)
    formulas: list[Formula] = []
    formula: str | None = None
    segment: Segment | None = None
    compare: Literal["previous_period"] | None = None

    _origin: str = PrivateAttr(default="query")

    @model_validator(mode="before")
    @classmethod
    def _safe_text(cls, data: Any) -> Any:
        from .guard import unsafe_text

        found = unsafe_text(data)
        if found is not None:
            where, problem = found
            raise ValueError(f"the text at {where or 'the top level'} {problem}; segwise refuses it")
        return data

    @field_validator("breakdown")
    @classmethod
    def _breakdown(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError(f"breakdown lists a property twice: {value}")
        if any(not name for name in value):
            raise ValueError("breakdown property names may not be empty")
        if len(value) > 5:
            raise ValueError("at most 5 breakdown properties")
        return value

    @field_validator("time_grain", mode="before")
    @classmethod
    def _grain_lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_analysis(self) -> Self:
        given = (("series", bool(self.series)), ("stickiness", self.stickiness), ("lifecycle", self.lifecycle))
        asked = [key for key, present in given if present]
        if len(asked) != 1:
            raise ValueError(
                "a query asks one question: give `series` (a segmentation), `stickiness` or `lifecycle`"
                + (f", not {' and '.join(asked)} together" if asked else "")
            )
        if self.cumulative and self.stickiness is None:
            raise ValueError("`cumulative` belongs to a stickiness query")
        if self.stickiness is not None and self.time_grain in ("hour", "day"):
            raise ValueError(
                f"stickiness counts the days of each bucket: use time_grain week, month, quarter, year or "
                f"total, not {self.time_grain}"
            )
        if self.lifecycle is not None and self.time_grain not in ("hour", "day", "week", "month"):
            raise ValueError(
                "lifecycle compares a bucket with the one before: use time_grain hour, day, week or month, "
                f"not {self.time_grain}"
            )
        if self.analysis != "series":
            for key in ("formulas", "formula", "compare", "breakdown_limit"):
                if getattr(self, key):
                    raise ValueError(
                        f"`{key}` is for a segmentation (series); a {self.analysis} query does not take it"
                    )
        return self

    @property
    def analysis(self) -> str:
        """Which question this is: ``series``, ``stickiness`` or ``lifecycle``."""
        if self.stickiness is not None:
            return "stickiness"
        return "lifecycle" if self.lifecycle is not None else "series"

    @model_validator(mode="after")
    def _labels(self) -> Self:
        labels: list[str] = []
        for index, series in enumerate(self.series):
            label = series.label or default_label(index)
            if label in labels:
                raise ValueError(f"two series are labelled {label!r}; labels must be unique")
            labels.append(label)
        if any(s.label is None for s in self.series):
            fixed = [
                s if s.label else s.model_copy(update={"label": default_label(i)}) for i, s in enumerate(self.series)
            ]
            object.__setattr__(self, "series", fixed)
        formulas = list(self.formulas)
        if self.formula is not None:
            formulas.append(Formula(label=self.formula, expression=self.formula))
            object.__setattr__(self, "formulas", formulas)
            object.__setattr__(self, "formula", None)
        self._check_formulas(labels, formulas)
        return self

    def _check_formulas(self, labels: list[str], formulas: list[Formula]) -> None:
        from .formulas import parse_formula, references

        taken = set(labels)
        for formula in formulas:
            if formula.label in taken:
                raise ValueError(f"formula label {formula.label!r} is already used by a series or formula")
            taken.add(formula.label)
            for ref in references(parse_formula(formula.expression)):
                if ref not in labels:
                    raise ValueError(
                        f"formula {formula.expression!r} uses {ref!r}, which is not a series label "
                        f"(labels: {', '.join(labels)})"
                    )

    @property
    def labels(self) -> list[str]:
        return [s.label or default_label(i) for i, s in enumerate(self.series)]

    # -- loading ---------------------------------------------------------------------------

    @classmethod
    def parse(cls, source: Query | dict[str, Any] | str | Path) -> Query:
        """Build a query from a ``Query``, a dict, or a path to a YAML/JSON file."""
        if isinstance(source, Query):
            return source
        if isinstance(source, dict):
            return validate_model(cls, source, origin="query", describe=_describe_location)
        if isinstance(source, (str, Path)):
            return cls.load(source)
        raise SpecError(f"a query must be a dict, a Query or a path to a YAML/JSON file, not {type(source).__name__}")

    @classmethod
    def load(cls, path: str | Path) -> Query:
        data = load_mapping(path, what="query")
        query = validate_model(cls, data, origin=str(path), describe=_describe_location)
        query._origin = str(path)
        return query

    @property
    def origin(self) -> str:
        """Where the query came from (its file path, or "query")."""
        return self._origin


def default_label(index: int) -> str:
    """A, B, ..., Z, AA, AB, ... in the order the series are given."""
    letters = string.ascii_uppercase
    if index < 26:
        return letters[index]
    return letters[index // 26 - 1] + letters[index % 26]


_UNION_TAGS = frozenset(
    {
        "name",
        "combined",
        "absolute",
        "relative",
        "str",
        "int",
        "float",
        "bool",
        "datetime",
        "date",
        "function-before[_from_name(), EventFilter]",
    }
)


def _describe_location(loc: tuple[str | int, ...], data: Any) -> str:
    """Turn pydantic's location into ``series[2] (label B) > where[0] > op``."""
    parts: list[str] = []
    node: Any = data
    for i, key in enumerate(loc):
        if isinstance(key, int):
            parts[-1] = f"{parts[-1]}[{key}]" if parts else f"[{key}]"
            if i == 1 and loc[0] == "series":
                label = node[key].get("label") if isinstance(node, list) and isinstance(node[key], dict) else None
                parts[-1] += f" (label {label or default_label(key)})"
        elif key in _UNION_TAGS:
            continue  # union branch names from pydantic: not part of the user's file
        else:
            parts.append(str(key))
        try:
            node = node[key] if node is not None else None
        except (KeyError, IndexError, TypeError):
            node = None
    return " > ".join(parts)
