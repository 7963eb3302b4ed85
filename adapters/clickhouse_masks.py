"""Day bitmasks on ClickHouse (rolling active users, ``engine/lower/rolling_mask.py``): the
``SqlFlavor.day_mask_*`` hooks as ClickHouse runs them, mixed into ``ClickHouseFlavor``.

* masks are ``UInt128``: ``groupBitOr``, ``bitShiftLeft``/``bitShiftRight``, ``bitAnd`` and
  ``bitCount`` take the wide unsigned integers (checked on chDB 4.4 up to bit 127), and 128 days
  in one word keep a quarter of range plus look-back in one word per user;
* ClickHouse has no ``<<``, ``>>``, ``&`` or ``|`` operators: ``bitwise_functions`` (run by the
  flavor's ``prepare``) turns them into ``bitShiftLeft``, ``bitShiftRight``, ``bitAnd``, ``bitOr``;
* a shift's bit count is a ``UInt8`` (the shift functions take no wide integer as count);
* the word is ``intDiv`` (sqlglot renders ``//`` as a float division cast back);
* ``toDate(x, 'UTC')`` for a day: segwise's local times are instants whose UTC wall clock is the
  local one (``ClickHouseFlavor``), so the day is read in UTC; a day truncated by
  ``toStartOfDay(ts, 'UTC')`` is the date of ``ts`` itself (one function less per event);
* the last day as ``toDate('YYYY-MM-DD')``: sqlglot renders ``CAST(.. AS DATE)`` as
  ``Nullable(DATE)``, which would make every event's day number a ``Nullable(Int32)``;
* a day number back to a day bucket: ``toDateTime(subtractDays(toDate(last), n), 'UTC')``, the
  ``DateTime('UTC')`` type the other day buckets have (``toStartOfDay(.., 'UTC')``).
"""

from __future__ import annotations

from typing import ClassVar

from sqlglot import exp

from .base import SqlFlavor
from .base import dialect_call as _fn

UTC = "UTC"

_FUNCTIONS: dict[type[exp.Expr], str] = {
    exp.BitwiseLeftShift: "bitShiftLeft",
    exp.BitwiseRightShift: "bitShiftRight",
    exp.BitwiseAnd: "bitAnd",
    exp.BitwiseOr: "bitOr",
}
_CHAINS = (exp.BitwiseAnd, exp.BitwiseOr)  # associative: a chain may be regrouped


def bitwise_functions(expression: exp.Expr) -> None:
    """Every bitwise operator under ``expression`` as ClickHouse's function (in place). A chain
    ``a | b | c | ..`` (the window's spread: one term per day) becomes a balanced tree of
    two-argument calls: nested to depth log2(terms), not one call per term (the statement guard
    parses the SQL again, and 31 nested calls exceed the parser's recursion limit)."""
    for node in list(expression.find_all(*_FUNCTIONS)):
        kind = type(node)
        if kind is type(node.parent) and kind in _CHAINS:
            continue  # inside a chain: its top takes it
        if kind in _CHAINS:
            terms = [*_terms(node.this, kind), *_terms(node.expression, kind)]
        else:
            terms = [node.this, node.expression]
        node.replace(_balanced(_FUNCTIONS[kind], terms))


def _terms(node: exp.Expr, kind: type[exp.Expr]) -> list[exp.Expr]:
    if type(node) is not kind:
        return [node]
    return [*_terms(node.this, kind), *_terms(node.expression, kind)]


def _balanced(name: str, terms: list[exp.Expr]) -> exp.Expr:
    if len(terms) == 1:
        return _bare(terms[0])
    half = len(terms) // 2
    return _fn(name, _balanced(name, terms[:half]), _balanced(name, terms[half:]))


def _bare(value: exp.Expr) -> exp.Expr:
    return value.this if isinstance(value, exp.Paren) else value


class ClickHouseDayMasks(SqlFlavor):
    """The day-mask hooks of ``ClickHouseFlavor`` (its ``capabilities`` set ``day_mask_bits``)."""

    day_mask_type: ClassVar[str] = "UInt128"
    day_mask_shift_type: ClassVar[str] = "UInt8"

    def day_mask_word(self, days: exp.Expr) -> exp.Expr:
        return _fn("intDiv", days, exp.Literal.number(self.capabilities.day_mask_bits))

    def day_date(self, day: exp.Expr) -> exp.Expr:
        if isinstance(day, exp.Anonymous) and day.name == "toStartOfDay" and len(day.expressions) == 2:
            day = day.expressions[0]
        return _fn("toDate", day.copy(), exp.Literal.string(UTC))

    def days_before(self, day: exp.Expr, last: str) -> exp.Expr:
        # toDate: a plain CAST renders as Nullable(DATE), and the difference per event is Nullable too
        later = _fn("toDate", exp.Literal.string(last))
        return exp.paren(exp.Sub(this=later, expression=self.day_date(day)))

    def day_before(self, last: str, days: exp.Expr) -> exp.Expr:
        date = _fn("subtractDays", _fn("toDate", exp.Literal.string(last)), days)
        return _fn("toDateTime", date, exp.Literal.string(UTC))
