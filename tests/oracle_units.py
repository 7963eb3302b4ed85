"""The oracle's units (docs/queries.md, "Units"): counting accounts, sessions ... instead of users.

Written from the contract, independently of the engine: a unit is declared as a property holding
its id (``units: {account: account_id}``), read from the event, else from the event's user row
(``event.x`` / ``user.x`` pick one). Every notion that counts or follows users then reads that id
instead of the user id (the references take it as ``unit_of(event, user)``); a null id is nobody.
``segment.user_where`` is refused for a unit other than ``user``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

UnitOf = Callable[[dict[str, Any], dict[str, Any] | None], Any]


def unit_reader(query: dict[str, Any], units: dict[str, str], event_columns: set[str]) -> UnitOf | None:
    """``unit_of(event, user)`` for the query's ``unit`` (None: users, the references' default)."""
    name = query.get("unit", "user")
    if name == "user":
        return None
    if (query.get("segment") or {}).get("user_where"):
        raise ValueError(f"oracle: user_where picks users, not {name} units")
    prop = units[name]
    prefix, dot, rest = prop.partition(".")
    if dot and prefix == "user" and prop not in event_columns:
        return lambda event, user: None if user is None else user.get(rest)
    column = rest if dot and prefix == "event" and prop not in event_columns else prop
    if column in event_columns:
        return lambda event, user: event.get(column)
    return lambda event, user: None if user is None else user.get(column)


def event_columns(events: list[dict[str, Any]]) -> set[str]:
    return set().union(*(e.keys() for e in events)) if events else set()
