"""The plan operators of a retention query (``planner._retention``; lowering in
``segwise.lower.retention``), bottom first:

    Retention signup -> any
      RetentionCounts  users per (cohort, groups, period); period 0 = the cohort's size
      ReturnPeriods    return bucket - cohort bucket in 1..8 per (user, cohort), 13 numbered buckets
      Join             LEFT JOIN users (country) ON users.user_id = the cohort member's user id, ...
      Cohorts          per (user, bucket): start / return flags; each user's first start ever ...
      Scan             events  ~120,000 of 1,000,000 rows  [...]

Each says what it does and how many rows it is expected to produce (``segwise explain``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from .plan import Operator
from .plan_users import Join

if TYPE_CHECKING:
    from .plan import LogicalPlan
    from .plan_events import Match
    from .retention_frame import RetentionFrame


@dataclass(frozen=True)
class Cohorts(Operator):
    """The scan's events reduced per (unit, bucket[, groups]) with start and return flags, and
    each unit's cohorts: ``first_time`` its first start event ever when inside the range,
    ``recurring`` every bucket of the range with a start event. It carries the start and return
    events as typed predicates (``start``, ``returning``; ``events``: both, what the scan reads)."""

    mode: str
    keys: str
    rows: int  # estimated (unit, bucket) rows
    start: Match
    returning: Match
    events: Match
    start_values: tuple[str, ...] = ()  # breakdowns read from the start event (its properties; another unit: user's)
    windows: bool = False  # first_time: each unit's entry by windows over its rows (else joined back)

    @property
    def detail(self) -> str:
        which = (
            "each user's first start event ever, kept when inside the range"
            if self.mode == "first_time"
            else "every bucket of the range with a start event"
        )
        if self.mode == "first_time":
            which += " (a window per user)" if self.windows else " (an aggregate per user, joined back)"
        if self.start_values:
            which += f"; {', '.join(self.start_values)}: the entry start event's value (ties: the smallest)"
        return f"per (user, {self.keys}): start / return flags (~{self.rows:,} rows); cohorts: {which}"

    @property
    def parts(self) -> tuple[tuple[str, Match], ...]:
        return (("start", self.start), ("return", self.returning))


@dataclass(frozen=True)
class MemberJoin(Join):
    """The user tables joined to the cohort members after the per-user reduction (the breakdowns
    ``names``: user properties, the unit being the user), not to every event."""

    names: tuple[str, ...] = ()
    after_reduction: ClassVar[bool] = True

    @property
    def kind(self) -> str:
        return "Join"

    @property
    def on(self) -> str:
        return "the cohort member's user id, after the reduction (not every event)"


@dataclass(frozen=True)
class ReturnPeriods(Operator):
    """Buckets numbered by a constant table; a unit's return period in a cohort is its return
    bucket's number minus the cohort's (``cumulative``: its last return bucket's)."""

    periods: int
    frame: RetentionFrame  # the numbered buckets, computed once by the planner (lowering reads them)
    cumulative: bool
    rows: int  # estimated (unit, cohort, period) rows
    rolling: str | None = None  # the period's length when periods are rolling (measured from t0)

    @property
    def buckets(self) -> int:
        return len(self.frame.buckets)

    @property
    def detail(self) -> str:
        if self.rolling is not None:
            span = f"(return - t0) / {self.rolling}"
            how = (
                f"{span} of each user's last return, capped at {self.periods}"
                if self.cumulative
                else f"{span} in 1..{self.periods} per (user, cohort)"
            )
            return f"rolling: {how}, microseconds since 1970; {self.buckets} numbered buckets (~{self.rows:,} rows)"
        if self.cumulative:
            how = f"each user's last return bucket - cohort bucket, capped at {self.periods}"
        else:
            how = f"return bucket - cohort bucket in 1..{self.periods} per (user, cohort)"
        return f"{how}; {self.buckets} numbered buckets (~{self.rows:,} rows)"


def return_periods(plan: LogicalPlan | None) -> ReturnPeriods:
    """The plan's ``ReturnPeriods`` of a retention query: what shaping and the SQL to paste read
    (the numbered buckets, how many periods, cumulative) instead of computing them again."""
    analysis = plan.analysis if plan is not None else None
    assert analysis is not None, "a compiled retention query carries its plan"
    return next(op for op in analysis.operators if isinstance(op, ReturnPeriods))


@dataclass(frozen=True)
class RetentionCounts(Operator):
    """Units per (cohort, groups, period); period 0 is the cohort's size."""

    keys: str
    cells: int  # cohorts x (periods + 1)

    @property
    def detail(self) -> str:
        return f"users per (cohort, {self.keys}, period), period 0 = cohort size ({self.cells:,} cells per group)"
