"""The user tables a plan joins, as typed parts lowering renders (``planner`` builds them).

A :class:`Join` (and retention's ``MemberJoin``) carries every user table its rows may read: the
table's catalog identity as sqlglot expressions (:class:`UserTable`: the reference, its user-id
column, the columns of the user properties the query reads) and the join's kind. Lowering joins
a table of the plan's join when its statement reads one of the table's columns (alias
``u<index>``), on the table's key equal to the rows' user id (the scan's tables' user id, or the
reduced rows' ``_u``), and reads each user property's column from it; it never looks a user table
up in the catalog. Explain prints them::

    Join           LEFT JOIN users (country, plan) ON users.user_id = the event's user id, after the event filters
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from sqlglot import exp

from .plan_parts import Operator

if TYPE_CHECKING:
    from .catalog import Catalog, ResolvedProperty

USER_ALIAS = "u"  # the statement's alias of user table k: u<k>


@dataclass(frozen=True)
class UserTable:
    """One user table a plan joins: its number in the project (the alias ``u<index>``), its
    name, its reference (unaliased), its user-id column and the columns of the user properties
    read (the catalog's column, and the identifier the statement reads)."""

    index: int
    name: str
    table: exp.Table
    key: exp.Identifier
    columns: tuple[tuple[str, exp.Identifier], ...]

    def column(self, name: str, alias: str) -> exp.Column:
        """The user property's column ``name`` as the plan names it, on ``alias``."""
        found = next((ident for column, ident in self.columns if column == name), None)
        assert found is not None, f"the plan's join reads column {name!r} of user table {self.name}"
        return exp.column(found.copy(), table=alias, quoted=True)

    def joined(self, select: exp.Select, alias: str, user: exp.Expr, how: str) -> exp.Select:
        """``select`` joined (``how``) with this table as ``alias`` on its key = ``user``."""
        table = self.table.copy()
        table.set("alias", exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))
        on = exp.EQ(this=exp.column(self.key.copy(), table=alias, quoted=True), expression=user.copy())
        return select.join(table, on=on, join_type=how, copy=False)

    def __str__(self) -> str:
        read = ", ".join(column for column, _ in self.columns)
        return f"{self.name} ({read}) ON {self.name}.{self.key.name}"


@dataclass(frozen=True)
class Join(Operator):
    """The user tables joined on the event's user id, after the event filters: ``tables`` the
    ones the rows may read, ``how`` the join's kind (``left``: an event whose user has no row
    keeps its row, with null properties)."""

    tables: tuple[UserTable, ...] = ()
    how: str = "left"
    after_reduction: ClassVar[bool] = False  # joined to reduced rows (retention's MemberJoin), not to events

    def table(self, index: int) -> UserTable:
        """The plan's user table number ``index`` (the planner lists every table the rows read)."""
        found = next((t for t in self.tables if t.index == index), None)
        assert found is not None, f"the plan's {self.kind} carries user table {index}"
        return found

    def join(self, select: exp.Select, aliases: dict[int, str], user: exp.Expr) -> exp.Select:
        """``select`` with the plan's tables ``aliases`` names (by number) joined on ``user``."""
        for index, alias in sorted(aliases.items()):
            select = self.table(index).joined(select, alias, user, self.how)
        return select

    @property
    def on(self) -> str:
        return "the event's user id, after the event filters"

    @property
    def detail(self) -> str:
        tables = "; ".join(str(t) for t in self.tables) or "user table(s)"
        return f"{self.how.upper()} JOIN {tables} = {self.on}"

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        out["tables"] = [
            {"table": t.name, "key": t.key.name, "columns": [c for c, _ in t.columns], "how": self.how}
            for t in self.tables
        ]
        return out


def user_tables(catalog: Catalog, props: Iterable[ResolvedProperty]) -> tuple[UserTable, ...]:
    """The user tables of ``props`` (the user properties among them), each with the columns read,
    in the project's order."""
    read: dict[int, list[str]] = {}
    for prop in props:
        if prop.user_table is not None and prop.column not in read.setdefault(prop.user_table, []):
            read[prop.user_table].append(prop.column)
    out: list[UserTable] = []
    for index in sorted(read):
        info = catalog.user_tables[index]
        columns = tuple((c, exp.to_identifier(c, quoted=True)) for c in read[index])
        key = exp.to_identifier(info.spec.user_id, quoted=True)
        out.append(UserTable(index, str(info.ref), info.ref.expression(), key, columns))
    return tuple(out)


def event_join(operators: Iterable[Operator]) -> Join | None:
    """The operators' join of user tables to the events (not one after a reduction)."""
    return next((op for op in operators if isinstance(op, Join) and not op.after_reduction), None)
