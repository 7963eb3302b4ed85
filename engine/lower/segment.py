"""Segments: membership of a row's unit in the query's segment (did / did not with thresholds,
named cohorts, user properties), as one boolean expression over a row source. The behavioural
part is a semi- or anti-join on the query's per-unit reduction (``lower/cohort.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from .cohort import membership
from .rows import RowSource, and_all

if TYPE_CHECKING:
    from segwise.cohorts import Conjunction

    from .state import Lowering


def segment(lw: Lowering, source: RowSource, conjunction: Conjunction) -> exp.Expr:
    """Membership of the source's unit in the plan's segment (``conjunction``, the plan's
    ``GroupBy.segment``), as one boolean expression."""
    unit = source.user()
    # Events without a unit id are never in a segment (whatever user_where says of nulls).
    known = exp.Not(this=exp.Is(this=unit.copy(), expression=exp.Null()))
    return and_all([membership(lw, unit, conjunction, source), known]) or exp.true()
