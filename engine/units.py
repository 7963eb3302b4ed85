"""Units: what a query counts and follows instead of users (``unit: account``).

The project declares units (``units: {account: account_id}``): a name and the event or user-table
property holding the unit's id. A query's ``unit`` (default ``user``) is resolved here, once, into
a :class:`Unit`; every lowering reads a row's unit id from ``RowSource.user()``
(``segwise.lower.rows``), which asks this unit, so unique users, rolling active users, per-user
measures, frequency, first/last occurrence, segments, stickiness and lifecycle all count the same
id. Rows whose unit id is null never count for those (docs/queries.md, "Units").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .catalog import EVENT_PROPERTY, USER_PROPERTY
from .errors import SpecError

if TYPE_CHECKING:
    from .catalog import Catalog, EventTableInfo, ResolvedProperty
    from .project import ProjectSpec

USER_UNIT = "user"


@dataclass(frozen=True)
class Unit:
    """The unit a query counts: ``user`` (each event table's user id) or a project unit, whose id
    is ``prop`` (an event property, or a user-table property reached by joining on the user id)."""

    name: str = USER_UNIT
    prop: ResolvedProperty | None = None

    @property
    def is_user(self) -> bool:
        return self.prop is None

    @property
    def on_user_table(self) -> bool:
        """The id lives on a user table: the events are joined to it on the user id."""
        return self.prop is not None and self.prop.source == USER_PROPERTY

    def describe(self, catalog: Catalog) -> str:
        """How ``explain`` names the unit id: which column, joined from where."""
        if self.prop is None:
            return "user: each event table's user id"
        if self.prop.source == EVENT_PROPERTY:
            return f"{self.name}: event column {self.prop.column!r} (events without it count for no {self.name})"
        assert self.prop.user_table is not None
        table = catalog.user_tables[self.prop.user_table]
        return (
            f"{self.name}: column {self.prop.column!r} of user table {table.ref}, joined on "
            f"{table.spec.user_id} = the event's user id"
        )


USER = Unit()


def resolve_unit(project: ProjectSpec, catalog: Catalog, name: str) -> Unit:
    """The query's ``unit`` against the project's ``units:``; an unknown name or a property that
    is not a column is an error naming what is allowed."""
    if name == USER_UNIT:
        return USER
    if name not in project.units:
        known = ", ".join([USER_UNIT, *project.units])
        raise SpecError(
            f"unknown unit {name!r}; this project's units are: {known}",
            where="unit",
            hint=f"declare it in the project file: units: {{{name}: <property holding its id>}}",
        )
    column = project.units[name]
    return Unit(name, catalog.resolve(column, f"project > units > {name} (the query's unit)"))


def check_tables(unit: Unit, tables: list[EventTableInfo], where: str) -> None:
    """A unit whose id is an event property must be a column of every table the query reads
    there (an event without the column could never count)."""
    if unit.prop is None or unit.prop.source != EVENT_PROPERTY:
        return
    missing = [str(t.ref) for t in tables if unit.prop.column not in t.columns]
    if missing:
        raise SpecError(
            f"unit {unit.name!r} reads its id from column {unit.prop.column!r}, which {', '.join(missing)} "
            "does not have",
            where=f"{where} > unit",
            hint="pick events of tables that hold the unit's id, or declare the unit on a user-table property",
        )
