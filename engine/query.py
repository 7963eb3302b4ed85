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

import string
import threading
from collections.abc import Hashable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BeforeValidator,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from .errors import SpecError
from .loading import load_mapping, validate_model
from .query_analyses import LIFECYCLE_STATUSES, AnalysisSpec, Lifecycle, Stickiness
from .query_funnel import Funnel
from .query_parts import (
    ANY_EVENT,
    ORDER_OPS,
    TEXT_OPS,
    AbsoluteRange,
    AnyOf,
    Category,
    Condition,
    DateRange,
    EventFilter,
    Formula,
    QueryModel,
    RelativeRange,
    Scalar,
    Segment,
    Series,
    TimeGrain,
    as_list,
)
from .query_retention import Retention

# The parts and analyses are importable from here too (``segwise.query.Condition``).
__all__ = [
    "ANALYSES",
    "ANY_EVENT",
    "LIFECYCLE_STATUSES",
    "ORDER_OPS",
    "TEXT_OPS",
    "AbsoluteRange",
    "AnyOf",
    "Category",
    "Condition",
    "DateRange",
    "EventFilter",
    "Formula",
    "Funnel",
    "Lifecycle",
    "Query",
    "RelativeRange",
    "Retention",
    "Scalar",
    "Segment",
    "Series",
    "Stickiness",
    "TimeGrain",
    "default_label",
]


# The questions a query can ask, one key each (exactly one is given); ``series`` is a
# segmentation, the others are models in ``segwise.query_analyses`` (docs/queries.md).
ANALYSES = ("series", "stickiness", "lifecycle", "funnel", "retention")


class Query(QueryModel):
    """One question: a segmentation (``series``) or another analysis (``stickiness``,
    ``lifecycle``). See
    ``docs/queries.md`` for every field."""

    series: list[Series] = Field(default=[], max_length=26 * 4)
    stickiness: Stickiness | None = None
    lifecycle: Lifecycle | None = None
    funnel: Funnel | None = None
    retention: Retention | None = None
    cumulative: bool = False  # stickiness: units active on at least (not exactly) `days` days
    date_range: DateRange = Field(default_factory=lambda: RelativeRange(last="30d"))
    time_grain: TimeGrain = "day"
    breakdown: Annotated[list[str], BeforeValidator(as_list)] = []
    breakdown_limit: int | None = Field(default=None, ge=1, le=10_000)
    formulas: list[Formula] = []
    formula: str | None = None
    segment: Segment | None = None
    categories: dict[str, Category] = {}  # used as breakdowns by name; the project's too
    compare: Literal["previous_period"] | None = None

    _origin: str = PrivateAttr(default="query")
    _canonical: str | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _safe_text(cls, data: Any) -> Any:
        from .guard import unsafe_text

        found = unsafe_text(data)
        if found is not None:
            where, problem = found
            raise ValueError(f"the text at {where or 'the top level'} {problem}; segwise refuses it")
        return data

    @model_validator(mode="before")
    @classmethod
    def _analysis_grain(cls, data: Any) -> Any:
        """An analysis may have its own default grain (a funnel: total)."""
        if isinstance(data, dict) and "time_grain" not in data:
            for key in ANALYSES[1:]:
                grain = getattr(_analysis_model(key), "default_grain", None)
                if data.get(key) is not None and grain is not None:
                    return {**data, "time_grain": grain}
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
        asked = [key for key in ANALYSES if getattr(self, key)]
        if len(asked) != 1:
            others = ", ".join(f"`{key}`" for key in ANALYSES[1:])
            raise ValueError(
                f"a query asks one question: give `series` (a segmentation) or one of {others}"
                + (f", not {' and '.join(asked)} together" if asked else "")
            )
        if self.cumulative and self.retention is not None:
            raise ValueError(
                "a retention query says `cumulative` inside `retention:` (returned in period k or later); the "
                "top-level `cumulative` is stickiness' (active on at least d days)"
            )
        if self.cumulative and self.stickiness is None:
            raise ValueError("`cumulative` belongs to a stickiness query")
        if self.analysis != "series":
            self.analysis_spec.check_query(self)
            for key in ("formulas", "formula", "compare", "breakdown_limit"):
                if getattr(self, key) and key not in self.analysis_spec.takes:
                    raise ValueError(
                        f"`{key}` is for a segmentation (series); a {self.analysis} query does not take it"
                    )
        return self

    @property
    def analysis(self) -> str:
        """Which question this is: a key of ``ANALYSES`` (``series``, ``stickiness``, ...)."""
        return next(key for key in ANALYSES if getattr(self, key))

    @property
    def analysis_spec(self) -> AnalysisSpec:
        """The analysis' own model (``query.stickiness``, ...); not for a segmentation."""
        spec = getattr(self, self.analysis)
        assert self.analysis != "series" and spec is not None
        return spec

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
            key = _plain_key(source)  # the same dict again (a repeated question): validated once
            found = _PARSED.get(key) if key is not None else None
            if found is None:
                found = validate_model(cls, source, origin="query", describe=_describe_location)
                if key is not None:
                    _remember(key, found)
            return found
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

    def canonical(self) -> str:
        """The query's canonical form: the ``repr`` of the model (every field, with its type), so
        spellings that parse alike are equal; computed once per query object (the model is frozen)."""
        if self._canonical is None:
            self._canonical = repr(self)
        return self._canonical


_PARSED_SIZE = 256  # dicts remembered by Query.parse (oldest first out)
_PARSED: dict[Hashable, Query] = {}
_PARSED_LOCK = threading.Lock()
_PLAIN = (str, int, float, bool, type(None), date)


def _plain_key(value: Any) -> Hashable | None:
    """A hashable copy of a dict of plain values, each with its type (so 1, 1.0, True and "1"
    differ, and a datetime's zone counts), or None when it holds anything else (then the dict is
    validated every time)."""
    kind = type(value)
    if kind is dict or kind is list or kind is tuple:
        pairs = value.items() if kind is dict else enumerate(value)
        parts = []
        for k, v in pairs:
            inner = _plain_key(v)
            if inner is None or (kind is dict and type(k) is not str):
                return None
            parts.append((k, inner))
        return (kind, tuple(parts))
    if kind is datetime:
        return (kind, value, value.tzinfo)
    return (kind, value) if kind in _PLAIN else None


def _remember(key: Hashable, query: Query) -> None:
    with _PARSED_LOCK:
        _PARSED[key] = query
        while len(_PARSED) > _PARSED_SIZE:
            del _PARSED[next(iter(_PARSED))]


def _analysis_model(key: str) -> type[AnalysisSpec]:
    models: dict[str, type[AnalysisSpec]] = {
        "stickiness": Stickiness,
        "lifecycle": Lifecycle,
        "funnel": Funnel,
        "retention": Retention,
    }
    return models[key]


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
