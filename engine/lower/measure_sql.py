"""A measure as SQL: its aggregate over matching rows, over rollup-shaped rows (counts and
sums add up, minima and maxima combine), across users, and how per-group values combine."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlglot import exp

from segwise.errors import UnsupportedError
from segwise.measures import MeasureContext

if TYPE_CHECKING:
    from segwise.measures import Measure

    from .rollup_rows import RollupColumns
    from .state import Lowering


def aggregate(
    lw, measure: Measure, user: exp.Expr, value: exp.Expr | None, rollup: RollupColumns | None = None
) -> exp.Expr:
    kind = measure.kind
    if rollup is not None:
        return rollup_aggregate(lw, measure, user, rollup)
    if measure.custom is not None:
        result = measure.custom.aggregate(MeasureContext(user=user, value=value, flavor=lw.flavor))
        return lw.flavor.as_bigint(result) if measure.custom.result == "integer" else lw.flavor.as_double(result)
    if kind == "events":
        return lw.flavor.as_bigint(exp.Count(this=exp.Star()))
    if kind in ("unique_users", "active_users", "frequency") or measure.is_per_user:
        return lw.flavor.as_bigint(exp.Count(this=exp.Distinct(expressions=[user])))
    if kind == "events_per_user":
        users = exp.Nullif(this=exp.Count(this=exp.Distinct(expressions=[user])), expression=exp.Literal.number(0))
        return exp.Div(this=lw.flavor.as_double(exp.Count(this=exp.Star())), expression=users)
    assert value is not None
    return across(lw, kind, measure.quantile, value)


def rollup_aggregate(lw: Lowering, measure: Measure, user: exp.Expr, r: RollupColumns) -> exp.Expr:
    """The measure over rollup-shaped rows: counts and sums add up, minima and maxima combine."""
    kind = measure.kind
    if kind == "events":
        return lw.flavor.as_bigint(exp.Sum(this=r.events))
    counted: exp.Expr = exp.Count(this=user) if r.users_unique else exp.Count(this=exp.Distinct(expressions=[user]))
    if kind in ("unique_users", "active_users", "frequency") or measure.is_per_user:
        return lw.flavor.as_bigint(counted)
    if kind == "events_per_user":
        users = exp.Nullif(this=counted, expression=exp.Literal.number(0))
        return exp.Div(this=lw.flavor.as_double(exp.Sum(this=r.events)), expression=users)
    if kind == "sum" and r.sum is not None:
        return lw.flavor.as_double(exp.Sum(this=r.sum))
    if kind == "avg" and r.sum is not None and r.count is not None:
        count = exp.Nullif(this=exp.Sum(this=r.count), expression=exp.Literal.number(0))
        return exp.Div(this=lw.flavor.as_double(exp.Sum(this=r.sum)), expression=count)
    if kind == "min" and r.min is not None:
        return lw.flavor.as_double(exp.Min(this=r.min))
    if kind == "max" and r.max is not None:
        return lw.flavor.as_double(exp.Max(this=r.max))
    raise UnsupportedError(f"measure {measure} cannot be computed from a rollup")  # refusal() prevents this


def across(lw: Lowering, kind: str, quantile: float | None, value: exp.Expr) -> exp.Expr:
    if kind == "sum":
        return lw.flavor.as_double(exp.Sum(this=value))
    if kind == "avg":
        return lw.flavor.as_double(exp.Avg(this=value))
    if kind == "min":
        return lw.flavor.as_double(exp.Min(this=value))
    if kind == "max":
        return lw.flavor.as_double(exp.Max(this=value))
    if kind == "percentile":
        if not lw.flavor.capabilities.exact_percentiles:
            raise UnsupportedError(f"{lw.flavor.name} has no exact percentile; this measure cannot run there")
        return lw.flavor.as_double(lw.flavor.percentile(value, quantile or 0.5))
    raise UnsupportedError(f"measure kind {kind} is not supported")  # pragma: no cover


def group_combiner(lw: Lowering, measure: Measure) -> Callable[[exp.Expr], exp.Expr] | None:
    """How the measure over several groups follows from its values per group (``Other`` is
    their union), or None when it does not (``Measure.combines_across_groups``)."""
    if not measure.combines_across_groups(lw.users_unique_after_reduction()):
        return None
    if measure.kind in ("events", "unique_users"):
        return lambda v: lw.flavor.as_bigint(exp.Sum(this=v))
    if measure.kind == "sum":
        return lambda v: lw.flavor.as_double(exp.Sum(this=v))
    aggregate = exp.Min if measure.kind == "min" else exp.Max
    return lambda v: lw.flavor.as_double(aggregate(this=v))
