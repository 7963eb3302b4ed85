"""Formulas across series (``B / A * 100``): parsed once, evaluated in post-processing.

The grammar is deliberately tiny — numbers, series labels, ``+ - * /``, unary minus and
parentheses — and is parsed by hand: nothing in a formula is ever evaluated as Python or SQL.
:func:`evaluate_arrays` computes a formula over whole aligned numpy columns (:func:`evaluate_columns`
over Arrow columns);
:func:`evaluate` is the same arithmetic on one set of values (the reference the tests compare to).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d*)?|\.\d+)|([A-Za-z_][A-Za-z0-9_]*)|(.))")


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Ref:
    label: str


@dataclass(frozen=True)
class Neg:
    operand: Node


@dataclass(frozen=True)
class BinOp:
    op: str
    left: Node
    right: Node


Node = Num | Ref | Neg | BinOp


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:  # pragma: no cover - the pattern matches any character
            break
        number, name, other = match.groups()
        if number is not None:
            tokens.append(("num", number))
        elif name is not None:
            tokens.append(("name", name))
        elif other in "+-*/()":
            tokens.append(("op", other))
        else:
            raise ValueError(f"unexpected {other!r} at position {match.start(3) + 1} in formula {text!r}")
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise ValueError(f"formula {self.text!r} ends too early")
        self.i += 1
        return token

    def expression(self) -> Node:
        node = self.term()
        while (token := self.peek()) is not None and token[1] in "+-" and token[0] == "op":
            self.i += 1
            node = BinOp(token[1], node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while (token := self.peek()) is not None and token[1] in "*/" and token[0] == "op":
            self.i += 1
            node = BinOp(token[1], node, self.unary())
        return node

    def unary(self) -> Node:
        token = self.take()
        if token == ("op", "-"):
            return Neg(self.unary())
        if token == ("op", "+"):
            return self.unary()
        if token == ("op", "("):
            node = self.expression()
            if self.take() != ("op", ")"):
                raise ValueError(f"formula {self.text!r}: missing ')'")
            return node
        if token[0] == "num":
            return Num(float(token[1]))
        if token[0] == "name":
            return Ref(token[1])
        raise ValueError(f"formula {self.text!r}: unexpected {token[1]!r}")


def parse_formula(text: str) -> Node:
    """Parse ``text``; a ValueError says what is wrong and where."""
    if not text.strip():
        raise ValueError("formula is empty")
    parser = _Parser(text)
    node = parser.expression()
    if parser.peek() is not None:
        raise ValueError(f"formula {text!r}: unexpected {parser.peek()[1]!r}")  # type: ignore[index]
    return node


def references(node: Node) -> list[str]:
    """Series labels used by ``node``, in order of first use."""
    if isinstance(node, Ref):
        return [node.label]
    if isinstance(node, Neg):
        return references(node.operand)
    if isinstance(node, BinOp):
        return list(dict.fromkeys(references(node.left) + references(node.right)))
    return []


def evaluate(node: Node, values: dict[str, float | None]) -> float | None:
    """The formula's value; null operands and division by zero give None."""
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Ref):
        value = values.get(node.label)
        return None if value is None else float(value)
    if isinstance(node, Neg):
        inner = evaluate(node.operand, values)
        return None if inner is None else -inner
    left = evaluate(node.left, values)
    right = evaluate(node.right, values)
    if left is None or right is None:
        return None
    if node.op == "+":
        return left + right
    if node.op == "-":
        return left - right
    if node.op == "*":
        return left * right
    if right == 0:
        return None
    return left / right


def evaluate_arrays(
    node: Node, columns: dict[str, tuple[np.ndarray, np.ndarray]], size: int
) -> tuple[np.ndarray, np.ndarray]:
    """The formula over aligned float64 numpy columns, each ``(values, valid)`` (``size`` rows), as
    :func:`evaluate` computes it per row: IEEE double arithmetic in the same order; a null operand or
    a division by zero gives null. Returns ``(values, valid)``; values where not valid are arbitrary."""
    with np.errstate(all="ignore"):
        values, valid = _arrays(node, columns, size)
    return np.broadcast_to(values, (size,)).astype(np.float64), np.broadcast_to(valid, (size,)).copy()


def _arrays(node: Node, columns: dict[str, tuple[np.ndarray, np.ndarray]], size: int) -> tuple[Any, Any]:
    if isinstance(node, Num):
        return np.float64(node.value), np.True_
    if isinstance(node, Ref):
        values, valid = columns[node.label]
        return np.asarray(values, dtype=np.float64), valid
    if isinstance(node, Neg):
        values, valid = _arrays(node.operand, columns, size)
        return np.negative(values), valid
    left, left_valid = _arrays(node.left, columns, size)
    right, right_valid = _arrays(node.right, columns, size)
    valid = np.logical_and(left_valid, right_valid)
    if node.op == "+":
        return np.add(left, right), valid
    if node.op == "-":
        return np.subtract(left, right), valid
    if node.op == "*":
        return np.multiply(left, right), valid
    return np.divide(left, right), np.logical_and(valid, np.not_equal(right, 0.0))


def evaluate_columns(node: Node, columns: dict[str, pa.Array | pa.ChunkedArray], size: int) -> pa.Array:
    """:func:`evaluate_arrays` over Arrow columns (cast to float64): a float64 Arrow array."""
    arrays = {}
    for name, column in columns.items():
        column = pc.cast(column, pa.float64())
        valid = np.asarray(column.is_valid(), dtype=bool)
        arrays[name] = (np.asarray(pc.fill_null(column, 0.0), dtype=np.float64), valid)
    values, valid = evaluate_arrays(node, arrays, size)
    return pa.array(values, type=pa.float64(), mask=~valid)
