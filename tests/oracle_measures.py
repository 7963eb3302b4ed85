"""The oracle's measures and formulas (see ``tests/oracle.py``)."""

from __future__ import annotations

import math
import re
from typing import Any

from tests.oracle_conditions import Resolver, Row

ROLLING_ALIASES = {"dau": 1, "wau": 7, "mau": 30}

# ---------------------------------------------------------------------------------------------
# measures


def parse_measure(text: str) -> tuple[str, Any]:
    """``(kind, argument)``: ('events', None), ('sum', 'price'), ('pct', (0.9, 'price')), ('rolling', 7),
    ('frequency', None), ('per_user', (across, q, prop)) for ``user_<across>:events`` / ``:sum:prop``
    (``across`` is avg, min, max or pct with quantile ``q``; ``prop`` None counts events).
    """
    name, _, arg = text.strip().partition(":")
    name = name.strip().lower()
    arg = arg.strip()
    if name in ("events", "unique_users", "events_per_user", "frequency"):
        return name, None
    if name in ROLLING_ALIASES:
        return "rolling", ROLLING_ALIASES[name]
    if name == "active_users":
        return "rolling", int(arg.lower().removesuffix("d"))
    if name.startswith("user_"):
        across = name.removeprefix("user_")
        quantile = None
        if across == "median":
            across, quantile = "pct", 0.5
        elif re.fullmatch(r"p\d{1,2}", across):
            across, quantile = "pct", int(across[1:]) / 100
        elif across not in ("avg", "min", "max"):
            raise ValueError(f"oracle: unknown per-user measure {text!r}")
        per, _, prop = arg.partition(":")
        if per.strip() == "events" and not prop:
            return "per_user", (across, quantile, None)
        if per.strip() == "sum" and prop.strip():
            return "per_user", (across, quantile, prop.strip())
        raise ValueError(f"oracle: unknown per-user measure {text!r}")
    if name in ("sum", "avg", "min", "max", "unique"):
        return name, arg
    if name == "median":
        return "pct", (0.5, arg)
    if re.fullmatch(r"p\d{1,2}", name):
        return "pct", (int(name[1:]) / 100, arg)
    raise ValueError(f"oracle: unknown measure {text!r}")


def is_count(measure: tuple[str, Any]) -> bool:
    return measure[0] in ("events", "unique_users", "rolling", "frequency", "unique")


def ranks_by_users(measure: tuple[str, Any]) -> bool:
    """Measures whose top-N groups are ranked by distinct users over the range."""
    return measure[0] in ("unique_users", "rolling", "per_user", "frequency")


def percentile_cont(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def _across(kind: str, quantile: float | None, values: list[float]) -> float | None:
    if not values:
        return None
    if kind == "sum":
        return math.fsum(values)
    if kind == "avg":
        return math.fsum(values) / len(values)
    if kind == "min":
        return min(values)
    if kind == "max":
        return max(values)
    if kind == "pct":
        assert quantile is not None
        return percentile_cont(values, quantile)
    raise ValueError(f"oracle: unknown aggregate {kind!r}")


def per_user_values(prop: str | None, rows: list[Row], resolver: Resolver) -> dict[Any, float]:
    """Each non-null user's number of events, or sum of ``prop`` (nulls ignored; all null -> 0)."""
    collected: dict[Any, list[float]] = {}
    for r in rows:
        if r.user_id is None:
            continue
        values = collected.setdefault(r.user_id, [])
        if prop is None:
            values.append(1.0)
        elif (value := resolver.value(prop, r)) is not None:
            values.append(float(value))
    return {user: math.fsum(values) for user, values in collected.items()}


def aggregate(measure: tuple[str, Any], rows: list[Row], resolver: Resolver) -> int | float | None:
    """A non-rolling measure over ``rows`` (rolling measures: distinct users, for ranking)."""
    kind, arg = measure
    users = {r.user_id for r in rows if r.user_id is not None}
    if kind == "events":
        return len(rows)
    if kind in ("unique_users", "rolling", "frequency"):
        return len(users)
    if kind == "unique":  # distinct non-null values of the property
        return len({v for v in (resolver.value(arg, r) for r in rows) if v is not None})
    if kind == "events_per_user":
        return len(rows) / len(users) if users else None
    if kind == "per_user":
        across, quantile, prop = arg
        return _across(across, quantile, [float(v) for v in per_user_values(prop, rows, resolver).values()])
    prop = arg[1] if kind == "pct" else arg
    values = [float(v) for v in (resolver.value(prop, r) for r in rows) if v is not None]
    return _across(kind, arg[0] if kind == "pct" else None, values)


# ---------------------------------------------------------------------------------------------
# formulas: numbers, labels, + - * /, unary minus, parentheses; null in -> null out; x/0 -> null

_FORMULA_TOKEN = re.compile(
    r"\s*(?:(?P<num>[0-9]+\.?[0-9]*|\.[0-9]+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[-+*/()]))"
)


def formula_tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _FORMULA_TOKEN.match(text, position)
        if match is None:
            raise ValueError(f"oracle: bad formula {text!r} at {position}")
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def evaluate_formula(text: str, values: dict[str, int | float | None]) -> float | None:
    """``text`` evaluated with the series ``values`` (label -> number or None)."""
    tokens = formula_tokens(text)
    at = 0

    def peek() -> tuple[str, str] | None:
        return tokens[at] if at < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal at
        at += 1
        return tokens[at - 1]

    def combine(op: str, left: float | None, right: float | None) -> float | None:
        if left is None or right is None:
            return None
        if op == "+":
            return left + right
        if op == "-":
            return left - right
        if op == "*":
            return left * right
        return None if right == 0 else left / right

    def expression() -> float | None:
        value = term()
        while peek() in (("op", "+"), ("op", "-")):
            value = combine(take()[1], value, term())
        return value

    def term() -> float | None:
        value = factor()
        while peek() in (("op", "*"), ("op", "/")):
            value = combine(take()[1], value, factor())
        return value

    def factor() -> float | None:
        kind, token = take()
        if (kind, token) == ("op", "-"):
            inner = factor()
            return None if inner is None else -inner
        if (kind, token) == ("op", "("):
            inner = expression()
            if take() != ("op", ")"):
                raise ValueError(f"oracle: missing ')' in {text!r}")
            return inner
        if kind == "num":
            return float(token)
        if kind == "name":
            value = values[token]
            return None if value is None else float(value)
        raise ValueError(f"oracle: unexpected {token!r} in {text!r}")

    result = expression()
    if at != len(tokens):
        raise ValueError(f"oracle: trailing tokens in {text!r}")
    return result


def formula_labels(text: str) -> list[str]:
    return list(dict.fromkeys(token for kind, token in formula_tokens(text) if kind == "name"))


def query_formulas(query: dict[str, Any]) -> list[tuple[str, str]]:
    """``(label, expression)`` of ``formulas`` then the ``formula`` shorthand (labelled by itself)."""
    out = [(f["label"], f["expression"]) for f in query.get("formulas") or []]
    if query.get("formula"):
        out.append((query["formula"], query["formula"]))
    return out
