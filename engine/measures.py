"""Measures: what a series computes per bucket (``events``, ``unique_users``, ``sum:revenue`` ...)."""

from __future__ import annotations

import re
from dataclasses import dataclass

COUNT_MEASURES = frozenset({"events", "unique_users", "active_users"})
PROPERTY_AGGREGATES = ("sum", "avg", "min", "max", "median")
ROLLING_ALIASES = {"dau": 1, "wau": 7, "mau": 30}

_PERCENTILE = re.compile(r"^p(\d{1,2})$")
_WINDOW = re.compile(r"^(\d+)d$")

ALLOWED = (
    "events, unique_users, events_per_user, sum:P, avg:P, min:P, max:P, median:P, pNN:P (p1..p99), "
    "active_users:Nd, dau, wau, mau"
)


@dataclass(frozen=True)
class Measure:
    """A parsed measure. ``kind`` is the aggregate; ``prop`` the property it reads, if any."""

    kind: str
    prop: str | None = None
    quantile: float | None = None
    window_days: int | None = None

    @property
    def is_count(self) -> bool:
        """Counts give int64 values and fill empty buckets with 0."""
        return self.kind in COUNT_MEASURES

    @property
    def is_rolling(self) -> bool:
        return self.kind == "active_users"

    def __str__(self) -> str:
        if self.kind == "active_users":
            return f"active_users:{self.window_days}d"
        if self.kind == "percentile":
            return f"p{round((self.quantile or 0) * 100)}:{self.prop}"
        return f"{self.kind}:{self.prop}" if self.prop else self.kind


def parse_measure(text: str) -> Measure:
    """Parse ``sum:revenue``, ``p90:price``, ``wau``...; a ValueError names what is allowed."""
    raw = text.strip()
    name, sep, arg = raw.partition(":")
    name = name.strip().lower()
    arg = arg.strip()
    if name in ("events", "unique_users", "events_per_user") and not sep:
        return Measure(name)
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
    raise ValueError(f"unknown measure {raw!r}; allowed: {ALLOWED}")
