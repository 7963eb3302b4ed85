"""A measure as SQL, from its registered definition (``segwise.measures``): its aggregate over
matching rows or rollup-shaped rows, and how its per-group values combine."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlglot import exp

from segwise.errors import UnsupportedError
from segwise.measures import MeasureContext

if TYPE_CHECKING:
    from segwise.measures import Measure, RollupColumns

    from .state import Lowering


def aggregate(
    lw: Lowering, measure: Measure, user: exp.Expr, value: exp.Expr | None, rollup: RollupColumns | None = None
) -> exp.Expr:
    """The measure over matching rows (or rollup-shaped rows), in its result type."""
    ctx = MeasureContext(user=user, value=value, flavor=lw.flavor, quantile=measure.quantile)
    if rollup is None:
        return measure.aggregate(ctx)
    definition = measure.definition
    if definition.rollup is None:  # refusal() keeps such measures away from rollup-shaped rows
        raise UnsupportedError(f"measure {measure} cannot be computed from a rollup: {definition.no_rollup}")
    result = definition.rollup(ctx, rollup)
    return result if definition.casts_itself else definition.cast(lw.flavor, result)


def group_combiner(lw: Lowering, measure: Measure) -> Callable[[exp.Expr], exp.Expr] | None:
    """How the measure over several groups follows from its values per group (``Other`` is
    their union), or None when it does not (``Measure.combines_across_groups``)."""
    definition = measure.definition
    if definition.combine is None or not measure.combines_across_groups(lw.users_unique_after_reduction()):
        return None
    combine = {"sum": exp.Sum, "min": exp.Min, "max": exp.Max}[definition.combine]
    return lambda v: definition.cast(lw.flavor, combine(this=v))
