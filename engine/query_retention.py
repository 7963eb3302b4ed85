"""The retention analysis as a query model (docs/queries.md, "Retention").

    retention:
      start: {event: signup}      # cohort entry
      return: {event: any}        # coming back (default: the start event)
      start_mode: first_time      # first_time | recurring
      periods: 8                  # periods 0..8
      windows: calendar           # calendar (buckets after the cohort's) | rolling (from each t0)
      cumulative: false           # true: returned in period k or later ("on or after")

The query's ``time_grain`` is the cohort bucket and the period length; its ``date_range`` says
which start events make cohorts.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from .query_analyses import AnalysisEvent, AnalysisSpec
from .query_parts import ANY_EVENT, AnyOf, EventFilter

RETENTION_GRAINS = ("hour", "day", "week", "month")
ROLLING_GRAINS = ("hour", "day", "week")
MAX_PERIODS = 400


class RetentionEvent(AnalysisEvent):
    """A retention event: ``{event: signup, where: [...]}`` (a bare event name is accepted)."""

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, data: Any) -> Any:
        return {"event": data} if isinstance(data, str) else data

    @property
    def folded(self) -> list[EventFilter]:
        """The members with the event's own ``where`` on each (one scan reads start and return
        events: each keeps its own filters)."""
        return [m.model_copy(update={"where": [*m.where, *self.where]}) for m in self.members]

    @property
    def is_any(self) -> bool:
        """Every event matches (``event: any`` without filters of its own)."""
        return not isinstance(self.event, AnyOf) and self.event == ANY_EVENT


class Retention(AnalysisSpec):
    """``retention: {start: ..., return: ..., start_mode, periods, windows, cumulative}``: of the
    units that entered a cohort in a bucket, how many came back in each later period."""

    takes: ClassVar[tuple[str, ...]] = ("breakdown_limit",)  # top-N groups by summed cohort size

    start: RetentionEvent
    return_: RetentionEvent | None = Field(default=None, alias="return")
    start_mode: Literal["first_time", "recurring"] = "first_time"
    periods: int = Field(default=8, ge=1, le=MAX_PERIODS)
    windows: Literal["calendar", "rolling"] = "calendar"
    cumulative: bool = False

    @property
    def members(self) -> list[EventFilter]:
        """What the one scan reads: the start events' members, then the return events' (each with
        its filters)."""
        return [*self.start.folded, *self.returning.folded]

    @property
    def returning(self) -> RetentionEvent:
        """The return event (the start event when none is given)."""
        return self.return_ if self.return_ is not None else self.start

    @model_validator(mode="after")
    def _checks(self) -> Retention:
        if self.start_mode == "first_time" and self.start.is_any and not self.start.where:
            raise ValueError(
                "`start: any` with `start_mode: first_time` would make each unit's first event of any kind, in "
                "its whole history, its cohort entry: name the event that marks a new unit (signup, "
                "first_purchase ...), or use `start_mode: recurring` (a cohort of every bucket a unit is active in)"
            )
        return self

    def check_query(self, query: Any) -> None:
        if query.time_grain not in RETENTION_GRAINS:
            raise ValueError(
                "retention cohorts and periods are buckets of time_grain: use hour, day, week or month, "
                f"not {query.time_grain}"
            )
        if self.windows == "rolling" and query.time_grain not in ROLLING_GRAINS:
            raise ValueError(
                "`windows: rolling` measures periods of a fixed length from each unit's start time: use "
                f"time_grain hour, day (24 hours) or week (7 x 24 hours), not {query.time_grain} (months differ in "
                "length; use `windows: calendar` for monthly periods)"
            )
