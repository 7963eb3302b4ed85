"""The parts of a query: conditions, events, series, date ranges, segments and formulas
(validated, immutable pydantic models that check shape only). ``segwise.query`` assembles them
into a ``Query``; ``segwise.query_analyses`` holds the analyses other than a segmentation.

Semantics are documented in ``docs/queries.md``; names follow ``DESIGN.md``.
"""

from __future__ import annotations

import builtins
import re
from datetime import date, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

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


def as_list(value: Any) -> Any:
    """Accept a single item where a list is expected (``breakdown: country``)."""
    if value is None:
        return []
    if isinstance(value, (str, dict)):
        return [value]
    return value


class QueryModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Condition(QueryModel):
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


Where = Annotated[list[Condition], BeforeValidator(as_list)]


class EventFilter(QueryModel):
    """One member of a combined event: an event name with its own filters."""

    event: str = Field(min_length=1)
    where: Where = []

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, data: Any) -> Any:
        return {"event": data} if isinstance(data, str) else data


class AnyOf(QueryModel):
    """A custom combined event: ``{any_of: [view, {event: purchase, where: [...]}]}``."""

    any_of: list[EventFilter] = Field(min_length=1)


class Series(QueryModel):
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


class AbsoluteRange(QueryModel):
    """Half-open ``[from, to)`` in the project's time zone; dates mean midnight."""

    from_: datetime | date = Field(alias="from")
    to: datetime | date

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if _as_datetime(self.to) <= _as_datetime(self.from_):
            raise ValueError(f"`to` ({self.to}) must be after `from` ({self.from_}); the range is half-open [from, to)")
        return self


class RelativeRange(QueryModel):
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


HavingOp = Literal["eq", "neq", "gt", "gte", "lt", "lte", "between"]
HAVING_AGGREGATES = ("sum", "avg", "min", "max")


class Having(QueryModel):
    """``{measure: events, op: gte, value: 3}``: a threshold on a unit's aggregate over the
    matching events of a ``did`` / ``did_not`` condition's window (docs/queries.md)."""

    measure: str = Field(min_length=1)
    op: HavingOp
    value: int | float | None = None
    values: list[int | float] | None = None

    @field_validator("measure")
    @classmethod
    def _measure(cls, value: str) -> str:
        text = value.strip()
        name, colon, prop = text.partition(":")
        if text in ("events", "active_days") or (colon and name in HAVING_AGGREGATES and prop.strip()):
            return f"{name}:{prop.strip()}" if colon else text
        raise ValueError(
            f"having.measure is events, active_days, sum:P, avg:P, min:P or max:P (P a numeric property); got {value!r}"
        )

    @model_validator(mode="after")
    def _operands(self) -> Self:
        if self.op == "between":
            if self.values is None or len(self.values) != 2 or self.value is not None:
                raise ValueError("having op 'between' needs `values: [low, high]` (inclusive)")
        elif self.value is None or self.values is not None:
            raise ValueError(f"having op '{self.op}' needs one number in `value`")
        return self

    @property
    def aggregate(self) -> str:
        """``events``, ``active_days``, ``sum``, ``avg``, ``min`` or ``max``."""
        return self.measure.partition(":")[0]

    @property
    def prop(self) -> str | None:
        """The property of ``sum:P`` ... (None for events and active_days)."""
        return self.measure.partition(":")[2] or None


class SegmentEvent(QueryModel):
    """Units who did (or did not do) an event with filters, in a window or ever, optionally with
    a threshold on an aggregate of those events (``having``)."""

    event: Annotated[
        Annotated[str, Tag("name")] | Annotated[AnyOf, Tag("combined")],
        Discriminator(lambda v: "combined" if isinstance(v, (dict, AnyOf)) else "name"),
    ]
    where: Where = []
    date_range: DateRange | None = None
    having: Having | None = None

    @property
    def members(self) -> list[EventFilter]:
        if isinstance(self.event, AnyOf):
            return list(self.event.any_of)
        return [EventFilter(event=self.event)]


# One condition or a list (the JSON schema says both).
Behaviours = Annotated[
    list[SegmentEvent], BeforeValidator(as_list, json_schema_input_type=SegmentEvent | list[SegmentEvent])
]


class Segment(QueryModel):
    """Restrict every series to these units (or break down by in / not in): every ``did``
    condition holds, no ``did_not`` condition's ``did`` holds, the named ``cohort``(s) hold and
    the ``user_where`` conditions hold."""

    did: Behaviours = []
    did_not: Behaviours = []
    user_where: Where = []
    cohort: Annotated[list[str], BeforeValidator(as_list, json_schema_input_type=str | list[str])] = []

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not (self.did or self.did_not or self.user_where or self.cohort):
            raise ValueError("a segment needs at least one of `did`, `did_not`, `user_where` or `cohort`")
        if any(not name for name in self.cohort):
            raise ValueError("a cohort name may not be empty")
        return self


class CategoryLabel(QueryModel):
    """One group of a category: ``{label: power, segment: {...}}``."""

    label: str = Field(min_length=1, max_length=200)
    segment: Segment


class Category(QueryModel):
    """``{of: [{label, segment}, ...], else: rare}``: every unit in exactly one group, the first
    whose segment holds, the rest in ``else`` (default ``other``)."""

    of: list[CategoryLabel] = Field(min_length=1)
    else_: str = Field(default="other", alias="else", min_length=1, max_length=200)

    @model_validator(mode="before")
    @classmethod
    def _has_of(cls, data: Any) -> Any:
        if isinstance(data, dict) and "of" not in data:
            raise ValueError(
                "a category needs `of`: an ordered list of {label, segment} (the first that holds wins), "
                "and optionally `else` (the label of the rest, default other)"
            )
        return data

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        labels = [item.label for item in self.of]
        if len(set(labels)) != len(labels):
            raise ValueError(f"a category's labels must be distinct: {labels}")
        if self.else_ in labels:
            raise ValueError(f"`else` ({self.else_!r}) is also one of the labels; give the rest a label of its own")
        return self

    @property
    def labels(self) -> list[str]:
        """Every value the category takes, in declaration order, ``else`` last."""
        return [item.label for item in self.of] + [self.else_]


class Formula(QueryModel):
    """``{label: conversion, expression: "B / A * 100"}``."""

    label: str = Field(min_length=1, max_length=200)
    expression: str

    @field_validator("expression")
    @classmethod
    def _parse(cls, value: str) -> str:
        from .formulas import parse_formula

        parse_formula(value)
        return value
