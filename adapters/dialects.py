"""SQL flavors for warehouses segwise can write SQL for without connecting to them.

Every flavor here renders offline; some are also the flavor of a live adapter (Snowflake and
BigQuery in ``remote.py``, ClickHouse in ``clickhouse.py``), which holds the same class.

``segwise sql QUERY --dialect NAME`` and ``project.compile(query, dialect=NAME)`` build the
statement with the compiler's portable expressions and ask these flavors for the few parts
that differ between warehouses. sqlglot translates most of the rest, but some of its
translations are valid SQL with a different meaning (Trino and Databricks get approximate
percentiles for ``PERCENTILE_CONT``; Snowflake's ``CONVERT_TIMEZONE`` with two arguments
reads a naive timestamp in the session's zone), so each flavor states the construct it means.

Conventions every flavor keeps (they are what the compiler's hooks promise):

* an event-time column that the catalog calls ``timestamp`` holds naive UTC times; the
  warehouse's naive type stands for it (``TIMESTAMP_NTZ``, BigQuery ``DATETIME``, ...);
* :meth:`to_local` returns the *naive local* time (wall clock in the project's zone), and
  :meth:`truncate` / :meth:`add_days` work on such values without consulting a session
  time zone or a session week start, so the answer does not depend on session settings;
* weeks start on Monday (the compiler shifts for other week starts).

``render`` may rewrite a few nodes the compiler builds directly (no hook exists for them); it
does so *in place*, because ``segwise sql`` pretty-prints the same expression object after
``compile`` rendered it. Every rewrite keeps the result unchanged.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, ClassVar

from sqlglot import exp

from segwise.errors import UnsupportedError
from segwise.hookspecs import hookimpl

from .base import GRAIN_UNITS, Capabilities, SqlFlavor
from .base import dialect_call as _fn
from .clickhouse_masks import ClickHouseDayMasks, bitwise_functions
from .clickhouse_sql import cross_join_without_keys, distinct_as_group_by

UTC = "UTC"


def _str(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def _num(value: int | float) -> exp.Expr:
    return exp.Literal.number(value)


def _type(name: str, dialect: str) -> exp.DataType:
    return exp.DataType.build(name, dialect=dialect)


class RenderOnlyFlavor(SqlFlavor):
    """A flavor with an in-place ``prepare`` step before rendering (see the module docstring)."""

    def prepare(self, expression: exp.Expr) -> None:
        """Rewrite nodes the dialect cannot take as built; must be idempotent."""

    def render(self, expression: exp.Expr, pretty: bool = False) -> str:
        self.prepare(expression)
        return expression.sql(dialect=self.dialect, pretty=pretty)


def _replace_all(expression: exp.Expr, kind: type[exp.Expr], build: Callable[[Any], exp.Expr]) -> None:
    """Replace every ``kind`` node under ``expression`` (in place) by ``build(node)``."""
    for node in list(expression.find_all(kind)):
        if node is expression:  # pragma: no cover - the root is always a statement
            continue
        node.replace(build(node))


def _null_safe_eq(node: exp.NullSafeEQ) -> exp.Expr:
    """``a IS NOT DISTINCT FROM b`` as ``(a = b OR (a IS NULL AND b IS NULL))``."""
    left, right = node.this, node.expression
    both_null = exp.and_(
        exp.Is(this=left.copy(), expression=exp.Null()),
        exp.Is(this=right.copy(), expression=exp.Null()),
        copy=False,
    )
    return exp.paren(
        exp.or_(exp.EQ(this=left.copy(), expression=right.copy()), exp.paren(both_null, copy=False), copy=False),
        copy=False,
    )


# ---------------------------------------------------------------------------------------------------
# Snowflake
# ---------------------------------------------------------------------------------------------------

_SIMPLE_LOWER = re.compile(r"^[a-z_][a-z0-9_$]*$")


class SnowflakeFlavor(RenderOnlyFlavor):
    """Snowflake: ``TIMESTAMP_NTZ`` event times, three-argument ``CONVERT_TIMEZONE``.

    * ``CONVERT_TIMEZONE('UTC', zone, ts)`` (three arguments) is the NTZ-to-NTZ conversion;
      the two-argument form reads an NTZ value in the *session* zone.
    * ``DATE_TRUNC('WEEK', ...)`` follows the ``WEEK_START`` session parameter, so Monday
      weeks are ``DATEADD(DAY, 1 - DAYOFWEEKISO(ts), DATE_TRUNC('DAY', ts))``.
    * Literals are cast to ``TIMESTAMP_NTZ`` / ``TIMESTAMP_TZ`` explicitly (plain ``TIMESTAMP``
      follows ``TIMESTAMP_TYPE_MAPPING``).
    * Snowflake stores unquoted names in upper case, and the compiler quotes table and column
      names but not table aliases (``"e"."user_id" ... FROM "events" AS e`` does not resolve
      there). Quoted names that are plain lower-case identifiers (as a case-insensitive
      catalog such as DuckDB's reports them) are rendered upper-case, which is how Snowflake
      resolves the same unquoted name; names with capitals or other characters stay exact.
    """

    name: ClassVar[str] = "snowflake"
    dialect: ClassVar[str] = "snowflake"
    time_format_tokens: ClassVar[dict[str, str] | None] = {
        "Y": "YYYY", "y": "YY", "m": "MM", "b": "MON", "d": "DD", "H": "HH24", "I": "HH12", "p": "AM",
        "M": "MI", "S": "SS", "f": "FF6",
    }  # fmt: skip

    def parse_time_text(self, expr: exp.Expr, pattern: str) -> exp.Expr:
        if pattern == "iso":
            return _fn("TO_TIMESTAMP_NTZ", expr)
        return _fn("TO_TIMESTAMP_NTZ", expr, _str(self.parse_format(pattern, quote=lambda t: f'"{t}"')))

    def epoch_to_timestamp(self, expr: exp.Expr, unit: str) -> exp.Expr:
        return _fn("TO_TIMESTAMP_NTZ", expr, _num({"s": 0, "ms": 3, "us": 6}[unit]))

    def truncate(self, grain: str, ts: exp.Expr) -> exp.Expr:
        day = exp.TimestampTrunc(this=ts, unit=exp.var("DAY"))
        if grain != "week":
            return exp.TimestampTrunc(this=ts, unit=exp.var(GRAIN_UNITS[grain]))
        back = exp.Sub(this=_num(1), expression=exp.DayOfWeekIso(this=ts.copy()))
        return exp.DateAdd(this=day, expression=back, unit=exp.var("DAY"))

    def add_days(self, ts: exp.Expr, days: int) -> exp.Expr:
        return exp.DateAdd(this=ts, expression=_num(days), unit=exp.var("DAY"))

    def to_local(self, ts: exp.Expr, timezone: str, has_tz: bool) -> exp.Expr:
        if has_tz:
            converted = exp.ConvertTimezone(target_tz=_str(timezone), timestamp=ts)
            return exp.cast(converted, exp.DataType.Type.TIMESTAMPNTZ)
        if timezone == UTC:
            return ts
        return exp.ConvertTimezone(source_tz=_str(UTC), target_tz=_str(timezone), timestamp=ts)

    def timestamp_literal(self, value: str, has_tz: bool) -> exp.Expr:
        if has_tz:
            return exp.cast(_str(value + "+00:00"), exp.DataType.Type.TIMESTAMPTZ)
        return exp.cast(_str(value), exp.DataType.Type.TIMESTAMPNTZ)

    def prepare(self, expression: exp.Expr) -> None:
        for ident in expression.find_all(exp.Identifier):
            if ident.quoted and _SIMPLE_LOWER.match(ident.name):
                ident.set("this", ident.name.upper())


# ---------------------------------------------------------------------------------------------------
# BigQuery
# ---------------------------------------------------------------------------------------------------


class BigQueryFlavor(RenderOnlyFlavor):
    """BigQuery: naive event times are ``DATETIME``; buckets stay ``DATETIME`` throughout.

    * Local time: ``DATETIME(TIMESTAMP(ts, 'UTC'), zone)`` (a ``TIMESTAMP`` column:
      ``DATETIME(ts, zone)``). ``TIMESTAMP_TRUNC`` would give ``TIMESTAMP`` buckets that do not
      compare with the ``DATETIME`` bucket spine; ``DATETIME_TRUNC`` keeps them naive.
    * ``WEEK`` starts on Sunday in BigQuery; Monday weeks are ``ISOWEEK``.
    * ``PERCENTILE_CONT`` exists only as an analytic (window) function and the aggregate
      ``APPROX_QUANTILES`` is approximate: no exact percentile, so ``median``/``pNN`` are refused.
    * ``VALUES`` is not a table in BigQuery; sqlglot renders the spine as
      ``UNNEST([STRUCT(... AS _b, ...)])``.
    """

    name: ClassVar[str] = "bigquery"
    dialect: ClassVar[str] = "bigquery"
    capabilities: ClassVar[Capabilities] = Capabilities(exact_percentiles=False)
    time_format_tokens: ClassVar[dict[str, str] | None] = {
        "Y": "%Y", "y": "%y", "m": "%m", "b": "%b", "d": "%d", "H": "%H", "I": "%I", "p": "%p",
        "M": "%M", "S": "%S", "j": "%j",
    }  # fmt: skip

    def parse_time_text(self, expr: exp.Expr, pattern: str) -> exp.Expr:
        if pattern == "iso":
            return exp.cast(expr, _type("DATETIME", "bigquery"))
        fmt = self.parse_format(pattern.replace("%S.%f", "%S"), quote=lambda t: t.replace("%", "%%"))
        fmt = fmt.replace("%S", "%E6S") if "%S.%f" in pattern else fmt  # seconds with a fraction
        return _fn("PARSE_DATETIME", _str(fmt), expr)

    def epoch_to_timestamp(self, expr: exp.Expr, unit: str) -> exp.Expr:
        name = {"s": "TIMESTAMP_SECONDS", "ms": "TIMESTAMP_MILLIS", "us": "TIMESTAMP_MICROS"}[unit]
        return _fn("DATETIME", _fn(name, exp.cast(expr, _type("INT64", "bigquery"))), _str(UTC))

    def truncate(self, grain: str, ts: exp.Expr) -> exp.Expr:
        unit = "ISOWEEK" if grain == "week" else GRAIN_UNITS[grain]
        return exp.DatetimeTrunc(this=ts, unit=exp.var(unit))

    def add_days(self, ts: exp.Expr, days: int) -> exp.Expr:
        return exp.DatetimeAdd(this=ts, expression=_num(days), unit=exp.var("DAY"))

    def to_local(self, ts: exp.Expr, timezone: str, has_tz: bool) -> exp.Expr:
        if has_tz:
            return _fn("DATETIME", ts, _str(timezone))
        if timezone == UTC:
            return ts
        return _fn("DATETIME", _fn("TIMESTAMP", ts, _str(UTC)), _str(timezone))

    def timestamp_literal(self, value: str, has_tz: bool) -> exp.Expr:
        if has_tz:
            return exp.cast(_str(value + "+00:00"), _type("TIMESTAMP", "bigquery"))
        return exp.cast(_str(value), _type("DATETIME", "bigquery"))

    def percentile(self, value: exp.Expr, quantile: float) -> exp.Expr:
        raise UnsupportedError("BigQuery has no exact percentile aggregate (PERCENTILE_CONT is analytic-only)")


# ---------------------------------------------------------------------------------------------------
# Redshift
# ---------------------------------------------------------------------------------------------------


class RedshiftFlavor(RenderOnlyFlavor):
    """Amazon Redshift.

    * ``CONVERT_TIMEZONE('UTC', zone, ts)`` for naive times; ``tstz AT TIME ZONE zone`` gives the
      naive local time of a ``TIMESTAMPTZ``.
    * ``DATEADD(DAY, n, ts)`` to shift; ``DATE_TRUNC('WEEK', ...)`` starts on Monday.
    * ``IS [NOT] DISTINCT FROM`` is not among Redshift's comparison conditions: the null-safe
      join on breakdown values becomes ``(a = b OR (a IS NULL AND b IS NULL))``.
    * Redshift has no ``VALUES`` table; sqlglot renders the spine as ``SELECT ... UNION ALL``.
    * ``PERCENTILE_CONT(q) WITHIN GROUP (ORDER BY v)`` is exact, as in PostgreSQL.
    """

    name: ClassVar[str] = "redshift"
    dialect: ClassVar[str] = "redshift"
    time_format_tokens: ClassVar[dict[str, str] | None] = {
        "Y": "YYYY", "y": "YY", "m": "MM", "b": "Mon", "d": "DD", "H": "HH24", "I": "HH12", "p": "AM",
        "M": "MI", "S": "SS", "f": "US", "j": "DDD",
    }  # fmt: skip

    def parse_time_text(self, expr: exp.Expr, pattern: str) -> exp.Expr:
        if pattern == "iso":
            return exp.cast(expr, exp.DataType.Type.TIMESTAMP)
        fmt = self.parse_format(pattern, quote=lambda t: f'"{t}"')  # TO_TIMESTAMP gives a UTC TIMESTAMPTZ
        return exp.cast(_fn("TO_TIMESTAMP", expr, _str(fmt)), exp.DataType.Type.TIMESTAMP)

    def add_days(self, ts: exp.Expr, days: int) -> exp.Expr:
        return exp.DateAdd(this=ts, expression=_num(days), unit=exp.var("DAY"))

    def to_local(self, ts: exp.Expr, timezone: str, has_tz: bool) -> exp.Expr:
        if has_tz:
            return exp.AtTimeZone(this=ts, zone=_str(timezone))
        if timezone == UTC:
            return ts
        return exp.ConvertTimezone(source_tz=_str(UTC), target_tz=_str(timezone), timestamp=ts)

    def prepare(self, expression: exp.Expr) -> None:
        _replace_all(expression, exp.NullSafeEQ, _null_safe_eq)


# ---------------------------------------------------------------------------------------------------
# Trino
# ---------------------------------------------------------------------------------------------------


class TrinoFlavor(RenderOnlyFlavor):
    """Trino (and Presto-compatible engines such as Athena v3).

    * Trino has no exact percentile aggregate (``approx_percentile`` only; sqlglot silently
      turns ``PERCENTILE_CONT`` into it): ``median``/``pNN`` are refused.
    * Local time: ``CAST(at_timezone(with_timezone(ts, 'UTC'), zone) AS TIMESTAMP(6))``.
      ``at_timezone`` on a naive value would first read it in the *session* zone.
    * ``date_add('DAY', n, ts)`` to shift; literals are ``TIMESTAMP(6)`` so microseconds survive.
    """

    name: ClassVar[str] = "trino"
    dialect: ClassVar[str] = "trino"
    capabilities: ClassVar[Capabilities] = Capabilities(exact_percentiles=False)
    time_format_tokens: ClassVar[dict[str, str] | None] = {
        "Y": "%Y", "y": "%y", "m": "%m", "b": "%b", "d": "%d", "H": "%H", "I": "%h", "p": "%p",
        "M": "%i", "S": "%s", "f": "%f", "j": "%j",
    }  # fmt: skip

    def parse_time_text(self, expr: exp.Expr, pattern: str) -> exp.Expr:
        if pattern == "iso":
            text = _fn("REPLACE", expr, _str("T"), _str(" "))
        else:
            text = _fn("DATE_PARSE", expr, _str(self.parse_format(pattern, quote=lambda t: t.replace("%", "%%"))))
        return exp.cast(text, _type("TIMESTAMP(6)", "trino"))

    def add_days(self, ts: exp.Expr, days: int) -> exp.Expr:
        return exp.DateAdd(this=ts, expression=_num(days), unit=exp.var("DAY"))

    def to_local(self, ts: exp.Expr, timezone: str, has_tz: bool) -> exp.Expr:
        if not has_tz and timezone == UTC:
            return ts
        aware = ts if has_tz else _fn("WITH_TIMEZONE", ts, _str(UTC))
        return exp.cast(_fn("AT_TIMEZONE", aware, _str(timezone)), _type("TIMESTAMP(6)", "trino"))

    def timestamp_literal(self, value: str, has_tz: bool) -> exp.Expr:
        if has_tz:
            return exp.cast(_str(value + " UTC"), _type("TIMESTAMP(6) WITH TIME ZONE", "trino"))
        return exp.cast(_str(value), _type("TIMESTAMP(6)", "trino"))

    def percentile(self, value: exp.Expr, quantile: float) -> exp.Expr:
        raise UnsupportedError("Trino has no exact percentile aggregate (approx_percentile only)")


# ---------------------------------------------------------------------------------------------------
# ClickHouse
# ---------------------------------------------------------------------------------------------------


class ClickHouseFlavor(ClickHouseDayMasks, RenderOnlyFlavor):
    """ClickHouse.

    ClickHouse ``DateTime`` values are instants; their time zone only matters when a function
    reads calendar fields. segwise's "naive local time" is therefore represented as an instant
    whose *UTC* wall clock is the local wall clock, and every calendar function is given
    ``'UTC'`` explicitly, so neither the column's zone nor the server's matters:

    * local time: ``addSeconds(ts, timeZoneOffset(toTimeZone(ts, zone)))``;
    * buckets: ``toStartOfHour/Day(x, 'UTC')``, ``toDateTime(toMonday(x, 'UTC'), 'UTC')``,
      ``toDateTime(toStartOfMonth|Quarter|Year(x, 'UTC'), 'UTC')`` (``dateTrunc`` returns
      ``Date32`` for weeks and ``DateTime64`` for days: bucket types would differ);
    * literals: ``toDateTime64('...', 6, 'UTC')`` (a string cast is read in the server zone);
    * exact percentiles: ``quantileExactInclusive(q)(v)`` interpolates as ``PERCENTILE_CONT``
      (R-7: ``x[floor((n-1)p)]`` plus the fraction of the step to the next value); nulls skipped;
    * counts are ``UInt64``: ``toInt64(...)``;
    * breakdown values as text print as DuckDB does: ``Float64`` with Python's shortest
      round-trip digits (``toString`` already does) but ``3.0`` for whole numbers (``toString``
      gives ``3``); ``DateTime64`` without trailing zeros (``2025-05-01 12:00:00.5``, not
      ``…00.500000``); ``Bool`` as ``true``/``false``.

    The live adapters (``clickhouse://``, ``chdb://``, see ``clickhouse.py``) use this flavor too.

    ``render`` also adds ``SETTINGS join_use_nulls = 1`` when the statement has an outer join
    (without it, unmatched user properties are ``''``/``0`` instead of NULL), replaces
    ``SUBSTRING`` by ``substringUTF8`` (``substring`` counts bytes, so ``starts_with`` on
    non-ASCII text would compare a cut-off byte string), and turns an inner join whose ``ON``
    has no equality (the rolling-window spine) into a ``CROSS JOIN`` plus ``WHERE``
    (older ClickHouse releases need an equality key in every JOIN ON) and a plain ``SELECT
    DISTINCT`` into a ``GROUP BY`` (ClickHouse's aggregator is several times faster than its
    distinct; see ``clickhouse_sql.py``). Rolling users use ``UInt128`` day bitmasks; ``prepare``
    writes the bitwise operators as ClickHouse's functions (``bitShiftLeft``, ``bitAnd``, ...;
    see ``clickhouse_masks.py``).
    """

    name: ClassVar[str] = "clickhouse"
    dialect: ClassVar[str] = "clickhouse"
    # UInt128: 128 days per user in one integer (rolling users by bitmask, ``clickhouse_masks.py``)
    capabilities: ClassVar[Capabilities] = Capabilities(day_mask_bits=128)
    time_format_tokens: ClassVar[dict[str, str] | None] = {
        "Y": "%Y", "y": "%y", "m": "%m", "b": "%b", "d": "%d", "H": "%H", "I": "%h", "p": "%p",
        "M": "%i", "S": "%s", "f": "%f", "j": "%j",
    }  # fmt: skip

    def parse_time_text(self, expr: exp.Expr, pattern: str) -> exp.Expr:
        if pattern == "iso":
            return _fn("parseDateTime64BestEffort", expr, _num(6), _str(UTC))
        fmt = self.parse_format(pattern, quote=lambda t: t.replace("%", "%%"))
        return _fn("parseDateTime64", expr, _str(fmt), _str(UTC))

    def epoch_to_timestamp(self, expr: exp.Expr, unit: str) -> exp.Expr:
        if unit == "s":
            return _fn("toDateTime64", expr, _num(6), _str(UTC))
        name = "fromUnixTimestamp64Milli" if unit == "ms" else "fromUnixTimestamp64Micro"
        return _fn("toDateTime64", _fn(name, _fn("toInt64", expr), _str(UTC)), _num(6), _str(UTC))

    _STARTS: ClassVar[dict[str, str]] = {
        "month": "toStartOfMonth",
        "quarter": "toStartOfQuarter",
        "year": "toStartOfYear",
        "week": "toMonday",
    }

    def truncate(self, grain: str, ts: exp.Expr) -> exp.Expr:
        utc = _str(UTC)
        if grain == "hour":
            return _fn("toStartOfHour", ts, utc)
        if grain == "day":
            return _fn("toStartOfDay", ts, utc)
        return _fn("toDateTime", _fn(self._STARTS[grain], ts, utc), utc.copy())

    def add_days(self, ts: exp.Expr, days: int) -> exp.Expr:
        return _fn("addDays", ts, _num(days))

    def zoned_bucket(self, ts: exp.Expr, timezone: str) -> exp.Expr:  # the UTC wall clock read in the zone
        return _fn("toDateTime64", _fn("toString", ts, _str(UTC)), _num(6), _str(timezone))

    def to_local(self, ts: exp.Expr, timezone: str, has_tz: bool) -> exp.Expr:
        if isinstance(ts, exp.Cast) and ts.to.is_type(exp.DataType.Type.TIMESTAMP):
            # a DATE event time (the compiler casts it): midnight UTC, not the server zone's midnight
            ts = _fn("toDateTime", ts.this, _str(UTC))
        if timezone == UTC:
            return ts
        offset = _fn("timeZoneOffset", _fn("toTimeZone", ts.copy(), _str(timezone)))
        return _fn("addSeconds", ts, offset)

    def timestamp_literal(self, value: str, has_tz: bool) -> exp.Expr:
        return _fn("toDateTime64", _str(value), _num(6), _str(UTC))

    def epoch_micros(self, ts: exp.Expr) -> exp.Expr:
        return _fn("toUnixTimestamp64Micro", _fn("toDateTime64", ts, _num(6), _str(UTC)))

    def time_for_compare(self, column: exp.Expr, kind: str) -> exp.Expr:
        # a DATE compared with a DateTime64 is read in the server zone; make it midnight UTC
        return _fn("toDateTime", column, _str(UTC)) if kind == "date" else column

    def percentile(self, value: exp.Expr, quantile: float) -> exp.Expr:
        return exp.ParameterizedAgg(this="quantileExactInclusive", expressions=[_num(quantile)], params=[value])

    def as_bigint(self, value: exp.Expr) -> exp.Expr:
        return _fn("toInt64", value)

    def as_text(self, value: exp.Expr, kind: str) -> exp.Expr:
        if kind == "string":
            return value
        text = _fn("toString", value.copy())
        if kind == "float":
            return _python_float_text(value)
        if kind in ("timestamp", "timestamptz"):
            # '2025-05-01 12:00:00.500000' -> '2025-05-01 12:00:00.5'; '...:00.000000' -> '...:00'
            trimmed = _fn("replaceRegexpOne", text, exp.Literal.string(r"\.?0+$"), exp.Literal.string(""))
            has_fraction = _fn("position", text.copy(), exp.Literal.string("."))
            return exp.If(
                this=exp.GT(this=has_fraction, expression=exp.Literal.number(0)), true=trimmed, false=text.copy()
            )
        if kind == "boolean":  # CASE keeps NULL (if() would read a NULL condition as false)
            return exp.Case(
                ifs=[
                    exp.If(this=value.copy(), true=exp.Literal.string("true")),
                    exp.If(this=exp.Not(this=value.copy()), true=exp.Literal.string("false")),
                ]
            )
        return text

    def prepare(self, expression: exp.Expr) -> None:
        _replace_all(
            expression,
            exp.Substring,
            lambda n: _fn(
                "substringUTF8", *[a.copy() for a in (n.this, n.args.get("start"), n.args.get("length")) if a]
            ),
        )
        for select in list(expression.find_all(exp.Select)):
            cross_join_without_keys(select)
            distinct_as_group_by(select)
        bitwise_functions(expression)
        has_outer = any(j.side in ("LEFT", "RIGHT", "FULL") for j in expression.find_all(exp.Join))
        if has_outer:
            target = expression
            settings = target.args.get("settings") or []
            if not any(isinstance(s, exp.EQ) and s.this.name == "join_use_nulls" for s in settings):
                target.set("settings", [*settings, exp.EQ(this=exp.column("join_use_nulls"), expression=_num(1))])


def _float_text_template() -> str:
    """A ``Float64`` printed as Python's ``repr`` (and DuckDB) print it, in ClickHouse SQL.

    ``toString`` gives the shortest round-trip digits, like Python, but in fixed notation for
    decimal exponents in [-6, 21) and without ``.0``; Python prints exponents outside [-4, 16)
    in scientific notation (``1e-05``, ``1.2345678901234568e+16``). The digits and exponent are
    read off ``toString``'s text, so nothing is recomputed in floating point. Lambdas over
    one-element arrays name the intermediate values, which keeps the expression short. ``_v``
    stands for the value (a constant template: no user input reaches it).
    """
    final = (
        "if(NOT isFinite(__v), toString(__v), "
        "if(__v != 0 AND (__e < -4 OR __e >= 16), "
        "concat(if(__v < 0, '-', ''), substring(__d, 1, 1), "
        "if(length(__d) > 1, concat('.', substring(__d, 2)), ''), "
        "'e', if(__e < 0, '-', '+'), if(abs(__e) < 10, '0', ''), toString(abs(__e))), "
        "if(__v = floor(__v), concat(toString(__v), '.0'), toString(__v))))"
    )
    exponent = (
        "if(__s, toInt32OrZero(substring(__t, position(__t, 'e') + 1)), if(__w != '0', toInt32(length(__w) - 1), "
        "toInt32(length(replaceRegexpOne(__f, '^0+', '')) - length(__f) - 1)))"
    )
    digits = (
        "if(__s, replace(__m, '.', ''), if(__w != '0', replaceRegexpOne(concat(__w, __f), '0+$', ''), "
        "replaceRegexpOne(__f, '^0+', '')))"
    )
    level4 = f"arrayMap((__e, __d) -> {final}, [{exponent}], [{digits}])[1]"
    level3 = (
        f"arrayMap((__w, __f) -> {level4}, [splitByChar('.', __m)[1]], "
        "[if(position(__m, '.') > 0, splitByChar('.', __m)[2], '')])[1]"
    )
    level2 = (
        f"arrayMap((__m, __s) -> {level3}, "
        "[if(position(__t, 'e') > 0, substring(__t, 1, position(__t, 'e') - 1), __t)], [position(__t, 'e') > 0])[1]"
    )
    return f"arrayMap((__t, __v) -> {level2}, [toString(abs(_v))], [_v])[1]"


@functools.cache
def _float_text_tree() -> exp.Expr:
    import sqlglot

    return sqlglot.parse_one(_float_text_template(), dialect="clickhouse")


def _python_float_text(value: exp.Expr) -> exp.Expr:
    tree = _float_text_tree().copy()
    for column in list(tree.find_all(exp.Column)):
        if column.name == "_v":
            column.replace(value.copy())
    return tree


# ---------------------------------------------------------------------------------------------------
# Databricks
# ---------------------------------------------------------------------------------------------------


class DatabricksFlavor(RenderOnlyFlavor):
    """Databricks SQL / Spark SQL: naive event times are ``TIMESTAMP_NTZ``.

    * Exact percentile: ``PERCENTILE(v, q)`` (linear interpolation like ``PERCENTILE_CONT``);
      sqlglot would render ``PERCENTILE_CONT`` as the approximate ``PERCENTILE_APPROX``.
    * Local time: ``CONVERT_TIMEZONE('UTC', zone, ts)`` (NTZ in, NTZ out; for a ``TIMESTAMP``
      column the two-argument form). ``FROM_UTC_TIMESTAMP`` works on session-zone
      ``TIMESTAMP`` values and would depend on the session zone.
    * Buckets stay ``TIMESTAMP_NTZ`` and avoid ``DATE_TRUNC`` (it returns a session-zone
      ``TIMESTAMP``): days and coarser go through ``DATE`` (``TRUNC(CAST(ts AS DATE), 'WEEK')``
      is the Monday), hours are ``TIMESTAMPADD(HOUR, HOUR(ts), <day>)``.
    """

    name: ClassVar[str] = "databricks"
    dialect: ClassVar[str] = "databricks"
    time_format_tokens: ClassVar[dict[str, str] | None] = {
        "Y": "yyyy", "y": "yy", "m": "MM", "b": "MMM", "d": "dd", "H": "HH", "I": "hh", "p": "a",
        "M": "mm", "S": "ss", "f": "SSSSSS", "j": "DDD",
    }  # fmt: skip

    def parse_time_text(self, expr: exp.Expr, pattern: str) -> exp.Expr:
        if pattern == "iso":
            return self._ntz(expr)
        fmt = self.parse_format(pattern, quote=lambda t: "'" + t.replace("'", "''") + "'")
        return _fn("TO_TIMESTAMP_NTZ", expr, _str(fmt))

    def epoch_to_timestamp(self, expr: exp.Expr, unit: str) -> exp.Expr:
        step = {"s": "SECOND", "ms": "MILLISECOND", "us": "MICROSECOND"}[unit]  # NTZ in, NTZ out: no session zone
        return _fn("TIMESTAMPADD", exp.var(step), expr, self.timestamp_literal("1970-01-01 00:00:00", False))

    _TRUNC: ClassVar[dict[str, str]] = {"week": "WEEK", "month": "MONTH", "quarter": "QUARTER", "year": "YEAR"}

    def _ntz(self, value: exp.Expr) -> exp.Expr:
        return exp.cast(value, exp.DataType.Type.TIMESTAMPNTZ)

    def truncate(self, grain: str, ts: exp.Expr) -> exp.Expr:
        day = exp.cast(ts, exp.DataType.Type.DATE)
        if grain == "hour":
            return _fn("TIMESTAMPADD", exp.var("HOUR"), exp.Hour(this=ts.copy()), self._ntz(day))
        if grain == "day":
            return self._ntz(day)
        return self._ntz(_fn("TRUNC", day, _str(self._TRUNC[grain])))

    def add_days(self, ts: exp.Expr, days: int) -> exp.Expr:
        return _fn("TIMESTAMPADD", exp.var("DAY"), _num(days), ts)

    def zoned_bucket(self, ts: exp.Expr, timezone: str) -> exp.Expr:
        return _fn("TO_UTC_TIMESTAMP", ts, _str(timezone))

    def to_local(self, ts: exp.Expr, timezone: str, has_tz: bool) -> exp.Expr:
        if has_tz:
            return exp.ConvertTimezone(target_tz=_str(timezone), timestamp=ts)
        if timezone == UTC:
            return ts
        return exp.ConvertTimezone(source_tz=_str(UTC), target_tz=_str(timezone), timestamp=ts)

    def timestamp_literal(self, value: str, has_tz: bool) -> exp.Expr:
        if has_tz:
            return exp.cast(_str(value + "+00:00"), exp.DataType.Type.TIMESTAMP)
        return self._ntz(_str(value))

    def percentile(self, value: exp.Expr, quantile: float) -> exp.Expr:
        return _fn("PERCENTILE", value, _num(quantile))


@hookimpl
def segwise_dialects() -> list[type[SqlFlavor]]:
    return [
        SnowflakeFlavor,
        BigQueryFlavor,
        RedshiftFlavor,
        TrinoFlavor,
        ClickHouseFlavor,
        DatabricksFlavor,
    ]
