"""The funnel analysis as a query model (docs/queries.md, "Funnels"): 2 to 20 steps, a
conversion window, ordered or any order, exclusions and held properties. Shape only: names are
resolved by ``segwise.bind``."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Discriminator, Field, Tag, field_validator

from .query_analyses import AnalysisSpec
from .query_parts import AnyOf, EventFilter, QueryModel, Where, as_list

MAX_STEPS = 20
FUNNEL_GRAINS = ("total", "hour", "day", "week", "month")
_WINDOW = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}

EventName = Annotated[
    Annotated[str, Tag("name")] | Annotated[AnyOf, Tag("combined")],
    Discriminator(lambda v: "combined" if isinstance(v, (dict, AnyOf)) else "name"),
]


class _Evented(QueryModel):
    event: EventName
    where: Where = []

    @property
    def own_members(self) -> list[EventFilter]:
        """The events this names, each with its own filters (not the shared ``where``)."""
        return list(self.event.any_of) if isinstance(self.event, AnyOf) else [EventFilter(event=self.event)]

    @property
    def members(self) -> list[EventFilter]:
        """The events this matches, each with its own filters and the shared ``where``."""
        return [EventFilter(event=m.event, where=[*m.where, *self.where]) for m in self.own_members]


class FunnelStep(_Evented):
    """One step: ``{event: cart, where: [...], label: carted}``."""

    label: str | None = Field(default=None, min_length=1, max_length=200)

    @property
    def name(self) -> str:
        """The step's label: given, else its event name, ``a or b`` for any_of."""
        if self.label:
            return self.label
        if isinstance(self.event, AnyOf):
            return " or ".join(m.event for m in self.event.any_of)
        return self.event


class FunnelExclusion(_Evented):
    """An event that disqualifies an attempt between two of its steps (1-based; defaults: 1 and
    the last step)."""

    after_step: int | None = Field(default=None, ge=1, le=MAX_STEPS)
    before_step: int | None = Field(default=None, ge=1, le=MAX_STEPS)


class Funnel(AnalysisSpec):
    """``funnel: {steps: [...], window: 7d, order: ordered, exclude: [...], hold: [...]}``."""

    takes: ClassVar[tuple[str, ...]] = ("breakdown_limit",)  # top-N groups + Other
    default_grain: ClassVar[str | None] = "total"

    steps: list[FunnelStep]
    window: str = "14d"
    order: Literal["ordered", "any"] = "ordered"
    exclude: list[FunnelExclusion] = []
    hold: Annotated[list[str], BeforeValidator(as_list)] = []

    @field_validator("steps")
    @classmethod
    def _steps(cls, value: list[FunnelStep]) -> list[FunnelStep]:
        if not 2 <= len(value) <= MAX_STEPS:
            raise ValueError(f"a funnel has 2 to {MAX_STEPS} steps, not {len(value)}")
        return value

    @field_validator("window", mode="before")
    @classmethod
    def _window(cls, value: Any) -> Any:
        match = _WINDOW.match(value) if isinstance(value, str) else None
        if match is None or int(match.group(1)) <= 0:
            raise ValueError(
                f"the window is a positive duration in hours, days or weeks (like 12h, 7d, 2w), not {value!r}"
            )
        return f"{int(match.group(1))}{match.group(2)}"

    @field_validator("hold")
    @classmethod
    def _hold(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value) or any(not name for name in value):
            raise ValueError(f"hold lists distinct property names: {value}")
        return value

    @property
    def window_delta(self) -> timedelta:
        match = _WINDOW.match(self.window)
        assert match is not None
        return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})

    def exclusion_steps(self, exclusion: FunnelExclusion) -> tuple[int, int]:
        """An exclusion's (after_step, before_step) with the defaults applied."""
        return exclusion.after_step or 1, exclusion.before_step or len(self.steps)

    @property
    def members(self) -> list[EventFilter]:
        """Every event the funnel reads: the steps' then the exclusions'."""
        return [m for part in [*self.steps, *self.exclude] for m in part.members]

    def check_query(self, query: Any) -> None:
        if query.time_grain not in FUNNEL_GRAINS:
            raise ValueError(
                f"a funnel's time_grain is total or an entry bucket (hour, day, week, month), not {query.time_grain}"
            )
