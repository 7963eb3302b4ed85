"""Measures: what a series computes per bucket (``events``, ``unique_users``, ``sum:revenue`` ...)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from sqlglot import exp

    from segwise.adapters.base import SqlFlavor

COUNT_MEASURES = frozenset({"events", "unique_users", "active_users", "frequency"})
PROPERTY_AGGREGATES = ("sum", "avg", "min", "max", "median")
ROLLING_ALIASES = {"dau": 1, "wau": 7, "mau": 30}

_PERCENTILE = re.compile(r"^p(\d{1,2})$")
_WINDOW = re.compile(r"^(\d+)d$")

# The rollup-shaped columns each measure reads (unique users read none: only the user id).
ROLLUP_INPUTS = {
    "unique_users": (),
    "active_users": (),
    "sum": ("sum",),
    "avg": ("sum", "count"),
    "min": ("min",),
    "max": ("max",),
    "user_sum": ("sum",),
}

ALLOWED = (
    "events, unique_users, events_per_user, sum:P, avg:P, min:P, max:P, median:P, pNN:P (p1..p99), "
    "active_users:Nd, dau, wau, mau, user_avg:events, user_median:sum:P (per-user: user_avg, user_min, "
    "user_max, user_median, user_pNN of events or sum:P), frequency"
)


@dataclass(frozen=True)
class MeasureContext:
    """What a custom measure's ``aggregate`` receives: the series' columns as expressions.

    ``user`` is the user id; ``value`` the measure's property cast to DOUBLE (``None`` when the
    measure takes no property); ``flavor`` the target dialect's helpers (e.g. ``percentile``).
    """

    user: exp.Expr
    value: exp.Expr | None
    flavor: SqlFlavor


@dataclass(frozen=True)
class MeasureDefinition:
    """A measure contributed by a plugin through the ``segwise_measures`` hook.

    ``aggregate(ctx)`` returns a sqlglot aggregate expression over the series' matching events;
    ``result`` is ``integer`` (int64, empty buckets 0) or ``float`` (float64, empty buckets null);
    ``additive`` says whether values of disjoint groups may be summed (used by rollups);
    ``property`` is ``required``, ``optional`` or ``none``.
    """

    name: str
    aggregate: Callable[[MeasureContext], exp.Expr]
    result: Literal["integer", "float"] = "float"
    additive: bool = False
    property: Literal["required", "optional", "none"] = "none"
    description: str = ""


@dataclass(frozen=True)
class Measure:
    """A parsed measure. ``kind`` is the aggregate; ``prop`` the property it reads, if any."""

    kind: str
    prop: str | None = None
    quantile: float | None = None
    window_days: int | None = None

    custom: MeasureDefinition | None = None
    across: str | None = None  # per-user measures: avg | min | max | percentile across users

    @property
    def is_per_user(self) -> bool:
        return self.kind in ("user_events", "user_sum")

    @property
    def is_count(self) -> bool:
        """Counts give int64 values and fill empty buckets with 0."""
        if self.custom is not None:
            return self.custom.result == "integer"
        return self.kind in COUNT_MEASURES

    @property
    def is_rolling(self) -> bool:
        return self.kind == "active_users"

    def combines_across_groups(self, users_unique: bool) -> bool:
        """Whether the measure over several groups follows from its values per group (``Other``
        is their union): counts and sums add up, minima and maxima combine, and distinct users
        add up when each user is in one group per bucket (``users_unique``)."""
        if self.custom is not None or self.is_rolling or self.is_per_user:
            return False
        return self.kind in ("events", "sum", "min", "max") or (self.kind == "unique_users" and users_unique)

    def __str__(self) -> str:
        if self.kind == "active_users":
            return f"active_users:{self.window_days}d"
        if self.is_per_user:
            across = f"p{round((self.quantile or 0) * 100)}" if self.across == "percentile" else self.across
            per = "events" if self.kind == "user_events" else f"sum:{self.prop}"
            return f"user_{across}:{per}"
        if self.kind == "percentile":
            return f"p{round((self.quantile or 0) * 100)}:{self.prop}"
        return f"{self.kind}:{self.prop}" if self.prop else self.kind


class UnknownMeasure(ValueError):
    """A measure name that is neither built in nor among the registered plugin measures."""


def parse_measure(text: str, custom: Mapping[str, MeasureDefinition]) -> Measure:
    """Parse ``sum:revenue``, ``p90:price``, ``wau``...; a ValueError names what is allowed.

    ``custom``: the plugin measures by name (``registry.measure_definitions()``)."""
    raw = text.strip()
    name, sep, arg = raw.partition(":")
    name = name.strip().lower()
    arg = arg.strip()
    if name in ("events", "unique_users", "events_per_user", "frequency") and not sep:
        return Measure(name)
    if name.startswith("user_"):
        return _parse_per_user(raw, name[5:], arg)
    if name in ROLLING_ALIASES and not sep:
        return Measure("active_users", window_days=ROLLING_ALIASES[name])
    if name == "active_users":
        match = _WINDOW.match(arg.lower())
        if not match or not 1 <= int(match.group(1)) <= 366:
            raise ValueError(f"measure {raw!r}: write active_users:Nd with N days from 1 to 366, like active_users:7d")
        return Measure("active_users", window_days=int(match.group(1)))
    percentile = _PERCENTILE.match(name)
    if name in PROPERTY_AGGREGATES or percentile:
        if not arg:
            raise ValueError(f"measure {raw!r} needs a property: write {name}:<property>, like {name}:revenue")
        if percentile:
            value = int(percentile.group(1))
            if not 1 <= value <= 99:
                raise ValueError(f"measure {raw!r}: percentiles go from p1 to p99")
            return Measure("percentile", prop=arg, quantile=value / 100)
        if name == "median":
            return Measure("percentile", prop=arg, quantile=0.5)
        return Measure(name, prop=arg)
    definition = custom.get(name)
    if definition is not None:
        if definition.property == "required" and not arg:
            raise ValueError(f"measure {raw!r} needs a property: write {name}:<property>")
        if definition.property == "none" and sep:
            raise ValueError(f"measure {name!r} takes no property")
        return Measure(name, prop=arg or None, custom=definition)
    extra = ", ".join(sorted(custom))
    allowed = f"{ALLOWED}, plugin measures: {extra}" if extra else ALLOWED
    raise UnknownMeasure(f"unknown measure {raw!r}; allowed: {allowed}")


def _parse_per_user(raw: str, across: str, arg: str) -> Measure:
    """``user_avg:events``, ``user_p90:sum:revenue`` ..."""
    percentile = _PERCENTILE.match(across)
    if across == "median":
        quantile: float | None = 0.5
    elif percentile and 1 <= int(percentile.group(1)) <= 99:
        quantile = int(percentile.group(1)) / 100
    elif across in ("avg", "min", "max"):
        quantile = None
    else:
        raise ValueError(
            f"unknown measure {raw!r}: per-user measures are user_avg, user_min, user_max, user_median or "
            "user_pNN, followed by :events or :sum:P"
        )
    kind = "percentile" if quantile is not None else across
    per, _, prop = arg.partition(":")
    if per == "events" and not prop:
        return Measure("user_events", quantile=quantile, across=kind)
    if per == "sum" and prop:
        return Measure("user_sum", prop=prop.strip(), quantile=quantile, across=kind)
    raise ValueError(f"measure {raw!r}: write user_{across}:events or user_{across}:sum:<property>")
