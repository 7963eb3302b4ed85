"""Segments: membership of a row's user in the query's segment (did / did not / user
properties), as one boolean expression over a row source."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from segwise.conditions import build_condition
from segwise.errors import SpecError
from segwise.timeframe import resolve_range

from .rows import RowSource, and_all

if TYPE_CHECKING:
    from segwise.query import Condition

    from .state import Lowering


def segment(lw: Lowering, source: RowSource) -> exp.Expr:
    """Membership of the source's user in the query's segment, as one boolean expression."""
    segment = lw.query.segment
    assert segment is not None
    parts: list[exp.Expr] = []
    for key, spec in (("did", segment.did), ("did_not", segment.did_not)):
        if spec is None:
            continue
        location = f"segment > {key}"
        tf = None
        if spec.date_range is not None:
            tf = resolve_range(spec.date_range, lw.project.timezone, lw.tf.now)
        users = RowSource(lw, spec.members, list(spec.where), tf, location)
        user = users.user()
        subquery = users.select([user], distinct=True)
        subquery = subquery.where(exp.Not(this=exp.Is(this=user.copy(), expression=exp.Null())), copy=False)
        member = exp.In(this=source.user(), query=exp.Subquery(this=subquery))
        parts.append(member if key == "did" else exp.Not(this=member))
    for c_index, cond in enumerate(segment.user_where):
        parts.append(user_condition(lw, source, cond, f"segment > user_where[{c_index}]"))
    # Events without a user id are never in a segment (whatever user_where says of nulls).
    parts.append(exp.Not(this=exp.Is(this=source.user(), expression=exp.Null())))
    return and_all(parts) or exp.true()


def user_condition(lw: Lowering, source: RowSource, cond: Condition, where: str) -> exp.Expr:
    prop = lw.catalog.resolve(cond.property, f"{where} > property")
    if prop.source != "user":
        raise SpecError(
            f"segment user_where takes user properties; {cond.property!r} is an event property", where=where
        )
    return build_condition(lw.flavor, source.prop(prop), prop, cond, where)
