"""The analyses other than a segmentation, as query models: stickiness and lifecycle
(docs/queries.md). ``segwise.query.Query`` holds at most one of them."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Discriminator, Tag

from .query_parts import AnyOf, EventFilter, QueryModel, Where


class AnalysisSpec(QueryModel):
    """What every analysis model offers the query: its checks of the query's common keys."""

    default_grain: ClassVar[str | None] = None  # the time_grain when the query gives none
    # the segmentation's keys (formulas, compare, breakdown_limit) this analysis takes too
    takes: ClassVar[tuple[str, ...]] = ()

    def check_query(self, query: Any) -> None:
        """Refuse the query's common keys (``time_grain``, ...) this analysis cannot answer;
        raise ``ValueError`` with the reason."""


class AnalysisEvent(QueryModel):
    """The event an analysis follows: ``{event: name | "any" | {any_of: [...]}, where: [...]}``."""

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


class Stickiness(AnalysisEvent, AnalysisSpec):
    """``stickiness: {event: feature_used, where: [...]}``: on how many days of each bucket units
    do the event (docs/queries.md, "Stickiness")."""

    def check_query(self, query: Any) -> None:
        if query.time_grain in ("hour", "day"):
            raise ValueError(
                f"stickiness counts the days of each bucket: use time_grain week, month, quarter, year or "
                f"total, not {query.time_grain}"
            )


# A lifecycle answer's statuses, in the order the answer is sorted (docs/queries.md, "Lifecycle").
LIFECYCLE_STATUSES = ("new", "returning", "resurrecting", "dormant")


class Lifecycle(Stickiness):
    """``lifecycle: {event: page_view, where: [...]}``: per bucket, users who are new,
    returning, resurrecting or dormant (docs/queries.md, "Lifecycle")."""

    def check_query(self, query: Any) -> None:
        if query.time_grain not in ("hour", "day", "week", "month"):
            raise ValueError(
                "lifecycle compares a bucket with the one before: use time_grain hour, day, week or month, "
                f"not {query.time_grain}"
            )
