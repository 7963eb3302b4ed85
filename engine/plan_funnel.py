"""The plan operators of a funnel query (``planner._funnel``; lowering in ``segwise.lower.funnel``),
bottom first: ``StepMatch`` (the window pass per unit), ``FunnelTopN`` (groups beyond the top N
as Other), ``BestAttempt`` (per unit and keys), ``StepAggregate`` (units and times per step).
Each says what it does and how many rows it is expected to produce (``segwise explain``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from .plan import Operator

if TYPE_CHECKING:
    from .catalog import ResolvedProperty
    from .plan_events import Match
    from .query import EventFilter


@dataclass(frozen=True)
class Exclusion:
    """A funnel exclusion: its events (``events``), excluded between steps ``after`` and
    ``before`` (1-based, defaults applied)."""

    events: Match
    after: int
    before: int

    @property
    def members(self) -> tuple[EventFilter, ...]:
        return self.events.members


@dataclass(frozen=True)
class StepMatch(Operator):
    """Funnel: the unit's time-ordered rows in one window pass (per unit and held values): for
    each step, the next matching time strictly after each row; attempts then follow their steps
    by equality lookups on (unit, held values, time) — no join fans out. It carries what lowering
    renders: the scan's ``events``, each step's (``steps``) and exclusion's events as typed
    predicates, the window (``window_delta``), the order and the held properties."""

    steps: tuple[Match, ...]
    window: str
    order: str
    rows: int  # estimated rows in the window pass
    attempts: int  # estimated attempts (events of step 1, or of any step for order: any)
    events: Match  # every step's and exclusion's events: what the scan reads
    window_delta: timedelta
    hold: tuple[ResolvedProperty, ...] = ()  # the held properties, resolved (lowering reads them)
    exclude: tuple[Exclusion, ...] = ()
    # "asof": ordered steps followed by ASOF joins (Capabilities.asof_join); "lists": by subscripts
    # into per-unit ordered lists (Capabilities.ordered_lists); see ``choose_form``
    form: str = "window"

    @property
    def exclusions(self) -> int:
        return len(self.exclude)

    def exclusion_steps(self, exclusion: Exclusion) -> tuple[int, int]:
        """An exclusion's (after, before) steps."""
        return exclusion.after, exclusion.before

    @property
    def parts(self) -> tuple[tuple[str, Match], ...]:
        steps = tuple((f"steps[{k}]", step) for k, step in enumerate(self.steps))
        return steps + tuple((f"exclude[{j}]", x.events) for j, x in enumerate(self.exclude))

    @property
    def detail(self) -> str:
        per = "unit" + (f", {', '.join(p.name for p in self.hold)}" if self.hold else "")
        if self.form == "lists":
            extra = f"; {self.exclusions} exclusion(s): next excluded time by subscript" if self.exclusions else ""
            return (
                f"ordered lists per ({per}) of the ~{self.rows:,} rows (running counts per step definition, "
                f"one pass); ~{self.attempts:,} attempts join their unit's lists once and follow steps "
                f"2..{len(self.steps)} by subscripts, within {self.window}{extra}"
            )
        if self.form == "asof":
            extra = f"; {self.exclusions} exclusion(s): next excluded time by ASOF join" if self.exclusions else ""
            return (
                f"ASOF joins per ({per}): ~{self.attempts:,} attempts follow steps 2..{len(self.steps)}, each the "
                f"next step event strictly later, within {self.window}; no window pass over the ~{self.rows:,} "
                f"rows{extra}"
            )
        if self.order == "any":
            how = f"earliest time of each of {len(self.steps)} steps at or after each row, within {self.window}"
        else:
            how = f"next time of steps 2..{len(self.steps)} strictly after each row, chained within {self.window}"
        extra = f"; {self.exclusions} exclusion(s): next excluded time after the step" if self.exclusions else ""
        return f"window pass per ({per}) over ~{self.rows:,} rows: {how}{extra}; ~{self.attempts:,} attempts"


@dataclass(frozen=True)
class FunnelTopN(Operator):
    """Funnel breakdowns: the top ``limit`` groups by step-1 units over the range; the rest map to
    ``Other`` before the best attempt is chosen, so a unit counts once there."""

    limit: int

    @property
    def detail(self) -> str:
        return f"top {self.limit} groups by step-1 units over the range, the rest -> Other (a unit once)"


@dataclass(frozen=True)
class BestAttempt(Operator):
    """Funnel: per (unit, keys) the valid attempt reaching the furthest step, ties to the latest
    start (ROW_NUMBER)."""

    keys: str

    @property
    def detail(self) -> str:
        return f"per (user, {self.keys}): the valid attempt reaching furthest, ties to the latest start"


@dataclass(frozen=True)
class StepAggregate(Operator):
    """Funnel: units per step (steps 1..reached of each best attempt), average and exact median
    seconds from the previous step, by keys and step."""

    keys: str
    steps: int

    @property
    def detail(self) -> str:
        return f"units, avg and median seconds per step 1..{self.steps}, by {self.keys}, step"


# The fewest steps for which the list form beats one ASOF join per step (DuckDB at 10M, 2026-12-06:
# the list form's fixed cost is one window pass and one list aggregate over the rows, about two
# 4-step ASOF funnels; each ASOF step costs about a sixth of that; docs/benchmarks.md)
LIST_MIN_STEPS = 8


def choose_form(
    order: str,
    steps: int,
    held: bool,
    exclusions: int,
    capabilities: tuple[bool, bool],
    rows: int,
    attempts: int,
    units: Callable[[], int],
) -> tuple[str, str]:
    """The form an ordered funnel's steps are followed in, and why: ``capabilities`` is the
    dialect's (ASOF joins, ordered lists); ``rows`` and ``attempts`` the scan's estimates,
    ``units`` the catalog's estimate of units (read only when the list form is in question).

    The list form (``segwise.lower.funnel_lists``) joins every attempt to its unit's lists once:
    attempts x rows per unit values, against the ASOF form's rows x (steps - 1). It is taken for
    ``LIST_MIN_STEPS`` steps or more when that product is the smaller; a skewed unit (far more
    rows than the average) is not seen by the estimate. Not with both ``hold`` and exclusions
    (the steps' lists are per held values, the exclusions' per unit)."""
    asof, lists = capabilities
    if order != "ordered":
        return "window", "any order: one window pass per unit"
    if lists and steps >= LIST_MIN_STEPS and not (held and exclusions):
        count = units()
        per_unit = rows / count if count > 0 else float(rows)
        if attempts * per_unit <= rows * (steps - 1):
            return "lists", (
                f"{steps} steps >= {LIST_MIN_STEPS}: per-unit ordered lists, one join and a subscript per step "
                f"(~{attempts:,} attempts x ~{per_unit:,.0f} rows per unit <= ~{rows:,} rows x {steps - 1} steps)"
            )
    if asof:
        return "asof", "steps followed by ASOF joins on the attempts (no window pass)"
    return "window", "one window pass per unit (no ASOF join)"
