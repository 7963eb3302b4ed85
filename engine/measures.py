"""Measures: what a series computes per bucket (``events``, ``unique_users``, ``sum:revenue`` ...).

A measure is a registered :class:`MeasureDefinition`: how it aggregates, what it returns, and
what the planner and the lowering may do with it (answer it from rollup-shaped rows, combine its
per-group values, share a scan, reduce per user first). The built-ins come through the
``segwise_measures`` hook exactly as a plugin's do (``segwise.plugins.measures``); the defaults
of a definition are the conservative ones, so a plugin measure is never rewritten in a way it
did not declare exact.

:func:`parse_measure` reads the measure grammar (``p90:price``, ``median:x``, ``wau``,
``active_users:7d``, ``user_avg:sum:revenue``) into a :class:`Measure`: a definition with its
arguments. The query model checks the grammar only (:func:`check_syntax`); binding resolves the
names against the registry.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from sqlglot import exp

if TYPE_CHECKING:
    from segwise.adapters.base import SqlFlavor

PROPERTY_AGGREGATES = ("sum", "avg", "min", "max", "median")
ROLLING_ALIASES = {"dau": 1, "wau": 7, "mau": 30}
# The kinds the grammar produces (built-in definitions, registered by segwise.plugins.measures).
GRAMMAR_KINDS = frozenset(
    {
        "events",
        "unique_users",
        "events_per_user",
        "frequency",
        "sum",
        "avg",
        "min",
        "max",
        "percentile",
        "active_users",
        "user_events",
        "user_sum",
        "unique",
    }
)
# Names the grammar reads itself: a plugin cannot register them.
RESERVED_NAMES = GRAMMAR_KINDS | {"median", *ROLLING_ALIASES}

_PERCENTILE = re.compile(r"^p(\d{1,2})$")
_WINDOW = re.compile(r"^(\d+)d$")

ALLOWED = (
    "events, unique_users, events_per_user, unique:P, sum:P, avg:P, min:P, max:P, median:P, pNN:P (p1..p99), "
    "active_users:Nd, dau, wau, mau, user_avg:events, user_median:sum:P (per-user: user_avg, user_min, "
    "user_max, user_median, user_pNN of events or sum:P), frequency"
)

Family = Literal["aggregate", "per_user", "rolling", "frequency"]


def _star() -> exp.Expr:
    return exp.Star()


@dataclass(frozen=True)
class MeasureContext:
    """What a measure's ``aggregate`` receives: the series' columns as expressions.

    ``user`` is the user id; ``value`` the measure's property cast to DOUBLE (``None`` when the
    measure takes no property); ``row`` what counting a row counts (``*``, or a ``CASE`` in a
    shared scan); ``quantile`` the percentile's; ``flavor`` the target dialect's helpers (e.g.
    ``percentile``, ``as_bigint``).
    """

    user: exp.Expr
    value: exp.Expr | None
    flavor: SqlFlavor
    row: exp.Expr = field(default_factory=_star)
    quantile: float | None = None


@dataclass(frozen=True)
class RollupColumns:
    """A series' rows in a rollup's shape: the measure inputs as expressions over some alias."""

    events: exp.Expr
    sum: exp.Expr | None = None
    count: exp.Expr | None = None
    min: exp.Expr | None = None
    max: exp.Expr | None = None
    users_unique: bool = False  # each user is on at most one row per output group (count without DISTINCT)

    def items(self) -> list[tuple[str, exp.Expr]]:
        return [(k, v) for k, v in vars(self).items() if isinstance(v, exp.Expr)]

    def materialized(self, table: str, suffix: str = "") -> RollupColumns:
        """The same columns as a CTE ``table`` holds them (``_r<kind><suffix>``; lowering
        materializes only those its measure reads)."""
        columns = {k: exp.column(f"_r{k}{suffix}", table=table) for k, _ in self.items()}
        return RollupColumns(
            events=columns["events"],
            sum=columns.get("sum"),
            count=columns.get("count"),
            min=columns.get("min"),
            max=columns.get("max"),
            users_unique=self.users_unique,
        )

    def users(self, user: exp.Expr) -> exp.Expr:
        """Distinct users of these rows (a plain count when each user is on one row per group)."""
        return exp.Count(this=user) if self.users_unique else exp.Count(this=exp.Distinct(expressions=[user]))


@dataclass(frozen=True)
class MeasureDefinition:
    """A measure, registered through the ``segwise_measures`` hook (built-ins included).

    ``aggregate(ctx)`` returns a sqlglot aggregate over the series' matching rows; segwise casts
    it to BIGINT (``result: integer``: int64, empty buckets 0) or DOUBLE (``float``: float64,
    empty buckets null) unless ``casts_itself``. ``property`` is ``required``, ``optional`` or
    ``none``; ``additive`` says whether values of disjoint groups may be summed.

    The rest says what the planner and the lowering may do, all off by default:

    * ``family``: which lowering computes it (``aggregate``; ``per_user``: per user, then across
      users; ``rolling``: rolling active users; ``frequency``: users per number of events);
    * ``rollup(ctx, columns)``: the measure over rollup-shaped rows (exact), reading
      ``rollup_inputs`` (``events``, ``sum``, ``count``, ``min``, ``max`` of its property);
      ``None``: never answered from a rollup, for ``no_rollup`` (a reason);
    * ``needs_users``: it reads user ids (a rollup must keep them);
    * ``combine`` (``sum``/``min``/``max``): per-group values combine so (top-N ``Other``),
      with ``combines_only_unique_users`` when that holds only for users in one group per bucket;
    * ``counts_users``: its aggregate is a distinct count of users (plain after a per-user
      reduction); ``distinct``: it costs a distinct count (the cost model weighs it 3);
    * ``shareable``: a conditional aggregate of a shared scan is exact (``ctx.row``/``ctx.user``/
      ``ctx.value`` are ``CASE`` expressions there); ``reducible``: exact from rows reduced per
      (bucket, user);
    * ``per_user``/``per_user_rollup`` (families ``per_user`` and ``frequency``): the value per
      user, from matching rows or rollup-shaped rows.
    """

    name: str
    aggregate: Callable[[MeasureContext], exp.Expr]
    result: Literal["integer", "float"] = "float"
    additive: bool = False
    property: Literal["required", "optional", "none"] = "none"
    description: str = ""
    family: Family = "aggregate"
    casts_itself: bool = False
    rollup: Callable[[MeasureContext, RollupColumns], exp.Expr] | None = None
    rollup_inputs: tuple[str, ...] = ("events",)
    no_rollup: str = "is a plugin measure, not declared in rollups"
    needs_users: bool = False
    combine: Literal["sum", "min", "max"] | None = None
    combines_only_unique_users: bool = False
    counts_users: bool = False
    distinct: bool = False
    shareable: bool = False
    reducible: bool = False
    per_user: Callable[[MeasureContext], exp.Expr] | None = None
    per_user_rollup: Callable[[MeasureContext, RollupColumns], exp.Expr] | None = None
    numeric: bool = True  # its property is numeric, read as DOUBLE (False: any type, read as it is)

    def cast(self, flavor: SqlFlavor, expression: exp.Expr) -> exp.Expr:
        """``expression`` in the measure's result type (as ``aggregate`` promises)."""
        return flavor.as_bigint(expression) if self.result == "integer" else flavor.as_double(expression)


@dataclass(frozen=True)
class Measure:
    """A measure as a series uses it: its definition and arguments."""

    definition: MeasureDefinition
    prop: str | None = None
    quantile: float | None = None
    window_days: int | None = None
    across: MeasureDefinition | None = None  # per-user measures: the aggregate across users

    @property
    def kind(self) -> str:
        return self.definition.name

    @property
    def is_per_user(self) -> bool:
        return self.definition.family == "per_user"

    @property
    def is_count(self) -> bool:
        """Counts give int64 values and fill empty buckets with 0."""
        return self.definition.result == "integer"

    @property
    def is_rolling(self) -> bool:
        return self.definition.family == "rolling"

    def combines_across_groups(self, users_unique: bool) -> bool:
        """Whether the measure over several groups follows from its values per group (``Other``
        is their union): counts and sums add up, minima and maxima combine, and distinct users
        add up when each user is in one group per bucket (``users_unique``)."""
        definition = self.definition
        return definition.combine is not None and (users_unique or not definition.combines_only_unique_users)

    def aggregate(self, ctx: MeasureContext) -> exp.Expr:
        """The measure over matching rows, in its result type."""
        value = self.definition.aggregate(ctx)
        return value if self.definition.casts_itself else self.definition.cast(ctx.flavor, value)

    def __str__(self) -> str:
        if self.is_rolling:
            return f"{self.kind}:{self.window_days}d"
        if self.is_per_user:
            across = self.across.name if self.across is not None else "avg"
            shown = f"p{round((self.quantile or 0) * 100)}" if across == "percentile" else across
            per = "events" if self.kind == "user_events" else f"sum:{self.prop}"
            return f"user_{shown}:{per}"
        if self.kind == "percentile":
            return f"p{round((self.quantile or 0) * 100)}:{self.prop}"
        return f"{self.kind}:{self.prop}" if self.prop else self.kind


class UnknownMeasure(ValueError):
    """A measure name that is neither in the grammar nor among the registered measures."""


@dataclass(frozen=True)
class _Parsed:
    kind: str
    prop: str | None = None
    quantile: float | None = None
    window_days: int | None = None
    across: str | None = None
    given_property: bool = False


def check_syntax(text: str) -> None:
    """Raise ValueError when ``text`` breaks the measure grammar (``sum`` without a property,
    ``p0:x``, ``active_users:400d`` ...). Names the grammar does not know may be plugin measures:
    binding checks them against the registry."""
    _parse(text)


def parse_measure(text: str, definitions: Mapping[str, MeasureDefinition]) -> Measure:
    """Parse ``sum:revenue``, ``p90:price``, ``wau``... against the registered ``definitions``
    (``registry.measure_definitions()``); a ValueError names what is allowed."""
    raw = text.strip()
    parsed = _parse(raw)
    definition = definitions.get(parsed.kind)
    if definition is None:
        extra = ", ".join(sorted(n for n in definitions if n not in GRAMMAR_KINDS))
        allowed = f"{ALLOWED}, plugin measures: {extra}" if extra else ALLOWED
        raise UnknownMeasure(f"unknown measure {raw!r}; allowed: {allowed}")
    if parsed.kind not in GRAMMAR_KINDS:  # a plugin's: its property as it declares
        if definition.property == "required" and not parsed.prop:
            raise ValueError(f"measure {raw!r} needs a property: write {parsed.kind}:<property>")
        if definition.property == "none" and parsed.given_property:
            raise ValueError(f"measure {parsed.kind!r} takes no property")
    across = definitions.get(parsed.across) if parsed.across else None
    return Measure(definition, parsed.prop, parsed.quantile, parsed.window_days, across)


def _parse(raw: str) -> _Parsed:
    raw = raw.strip()
    name, sep, arg = raw.partition(":")
    name = name.strip().lower()
    arg = arg.strip()
    if name in ("events", "unique_users", "events_per_user", "frequency") and not sep:
        return _Parsed(name)
    if name.startswith("user_"):
        return _parse_per_user(raw, name[5:], arg)
    if name in ROLLING_ALIASES and not sep:
        return _Parsed("active_users", window_days=ROLLING_ALIASES[name])
    if name == "active_users":
        match = _WINDOW.match(arg.lower())
        if not match or not 1 <= int(match.group(1)) <= 366:
            raise ValueError(f"measure {raw!r}: write active_users:Nd with N days from 1 to 366, like active_users:7d")
        return _Parsed("active_users", window_days=int(match.group(1)))
    if name == "unique":
        if not arg:
            raise ValueError(f"measure {raw!r} needs a property: write unique:<property>, like unique:session_id")
        return _Parsed("unique", prop=arg)
    percentile = _PERCENTILE.match(name)
    if name in PROPERTY_AGGREGATES or percentile:
        if not arg:
            raise ValueError(f"measure {raw!r} needs a property: write {name}:<property>, like {name}:revenue")
        if percentile:
            value = int(percentile.group(1))
            if not 1 <= value <= 99:
                raise ValueError(f"measure {raw!r}: percentiles go from p1 to p99")
            return _Parsed("percentile", prop=arg, quantile=value / 100)
        if name == "median":
            return _Parsed("percentile", prop=arg, quantile=0.5)
        return _Parsed(name, prop=arg)
    return _Parsed(name, prop=arg or None, given_property=bool(sep))


def _parse_per_user(raw: str, across: str, arg: str) -> _Parsed:
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
        return _Parsed("user_events", quantile=quantile, across=kind)
    if per == "sum" and prop:
        return _Parsed("user_sum", prop=prop.strip(), quantile=quantile, across=kind)
    raise ValueError(f"measure {raw!r}: write user_{across}:events or user_{across}:sum:<property>")
