"""The oracle's properties and conditions: one event row, property lookup, conditions with SQL
null semantics and breakdown values as text (see ``tests/oracle.py``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any


class Row:
    """One event with what the oracle derives from it."""

    __slots__ = ("day", "event", "local", "name", "user", "user_id")

    def __init__(
        self, event: dict[str, Any], local: datetime, user: dict[str, Any] | None, name: str, user_id: Any
    ) -> None:
        self.event = event
        self.local = local
        self.day = local.date()
        self.user = user
        self.name = name
        self.user_id = user_id


class Resolver:
    """Property lookup: event columns first, then user columns; ``event.x`` / ``user.x`` force one."""

    def __init__(self, event_columns: set[str], user_columns: set[str]) -> None:
        self.event_columns = event_columns
        self.user_columns = user_columns

    def source(self, name: str) -> tuple[str, str]:
        prefix, dot, rest = name.partition(".")
        if name in self.event_columns:
            return "event", name
        if dot and prefix == "event" and rest in self.event_columns:
            return "event", rest
        if dot and prefix == "user" and rest in self.user_columns:
            return "user", rest
        if name in self.user_columns:
            return "user", name
        raise KeyError(f"oracle: unknown property {name!r}")

    def value(self, name: str, row: Row) -> Any:
        where, column = self.source(name)
        if where == "event":
            return row.event.get(column)
        return None if row.user is None else row.user.get(column)


def _coerce(operand: Any, like: Any) -> Any:
    """Make a condition operand comparable with a property value of the same kind."""
    if isinstance(like, bool):
        if not isinstance(operand, bool):
            raise TypeError(f"oracle: cannot compare boolean with {operand!r}")
        return operand
    if isinstance(like, (int, float)):
        if isinstance(operand, bool) or not isinstance(operand, (int, float)):
            raise TypeError(f"oracle: cannot compare number with {operand!r}")
        return operand
    if isinstance(like, str):
        if not isinstance(operand, str):
            raise TypeError(f"oracle: cannot compare text with {operand!r}")
        return operand
    if isinstance(like, datetime):
        if isinstance(operand, str):
            operand = datetime.fromisoformat(operand)
        elif not isinstance(operand, datetime) and isinstance(operand, date):
            operand = datetime(operand.year, operand.month, operand.day)
        return operand
    if isinstance(like, date):
        if isinstance(operand, str):
            operand = date.fromisoformat(operand)
        elif isinstance(operand, datetime):
            raise TypeError("oracle: compare a date property with a date")
        return operand
    raise TypeError(f"oracle: unsupported property value {like!r}")


def condition_holds(cond: dict[str, Any], value: Any) -> bool:
    """One condition on a property value, with SQL null semantics."""
    op = cond["op"]
    if op == "is_null":
        return value is None
    if op == "is_not_null":
        return value is not None
    if value is None:
        return False  # a null matches no operator but is_null
    if op in ("in", "not_in"):
        operands = [_coerce(v, value) for v in cond["values"]]
        inside = any(value == v for v in operands)
        return inside if op == "in" else not inside
    if op == "between":
        low, high = (_coerce(v, value) for v in cond["values"])
        return low <= value <= high
    operand = _coerce(cond["value"], value)
    if op == "eq":
        return value == operand
    if op == "neq":
        return value != operand
    if op == "gt":
        return value > operand
    if op == "gte":
        return value >= operand
    if op == "lt":
        return value < operand
    if op == "lte":
        return value <= operand
    if not isinstance(value, str):
        raise TypeError(f"oracle: {op} needs a text property, got {value!r}")
    if op == "contains":
        return operand in value
    if op == "not_contains":
        return operand not in value
    if op == "starts_with":
        return value.startswith(operand)
    raise ValueError(f"oracle: unknown operator {op!r}")


def condition_list(where: Any) -> list[dict[str, Any]]:
    if where is None:
        return []
    return [where] if isinstance(where, dict) else list(where)


def all_hold(where: Any, row: Row, resolver: Resolver) -> bool:
    return all(condition_holds(c, resolver.value(c["property"], row)) for c in condition_list(where))


def series_matches(series: dict[str, Any], row: Row, resolver: Resolver) -> bool:
    event = series["event"]
    if isinstance(event, dict):
        members = [{"event": m} if isinstance(m, str) else m for m in event["any_of"]]
    else:
        members = [{"event": event}]
    hit = any(
        (m["event"] == "any" or m["event"] == row.name) and all_hold(m.get("where"), row, resolver) for m in members
    )
    return hit and all_hold(series.get("where"), row, resolver)


def breakdown_text(value: Any) -> str | None:
    """A breakdown value as the engine prints it (DuckDB's cast to text)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        return text + (f".{value.microsecond:06d}".rstrip("0") if value.microsecond else "")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"oracle: cannot print breakdown value {value!r}")
