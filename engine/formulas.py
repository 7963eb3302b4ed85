"""Formulas across series (``B / A * 100``): parsed once, evaluated in Arrow post-processing.

The grammar is deliberately tiny — numbers, series labels, ``+ - * /``, unary minus and
parentheses — and is parsed by hand: nothing in a formula is ever evaluated as Python or SQL.
:func:`evaluate_columns` computes a formula over whole aligned columns with Arrow compute;
:func:`evaluate` is the same arithmetic on one set of values (the reference the tests compare to).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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


_ARROW_OPS = {"+": pc.add, "-": pc.subtract, "*": pc.multiply}


def evaluate_columns(node: Node, columns: dict[str, pa.Array | pa.ChunkedArray], size: int) -> pa.Array:
    """The formula over aligned float64 columns (``size`` rows), as :func:`evaluate` computes it per
    row: IEEE double arithmetic in the same order; a null operand or a division by zero gives null."""
    result = _columns(node, columns)
    if isinstance(result, pa.Scalar):  # constants only
        return pa.repeat(result, size)
    return result.combine_chunks() if isinstance(result, pa.ChunkedArray) else result


def _columns(node: Node, columns: dict[str, pa.Array | pa.ChunkedArray]) -> pa.Array | pa.ChunkedArray | pa.Scalar:
    if isinstance(node, Num):
        return pa.scalar(node.value, pa.float64())
    if isinstance(node, Ref):
        return pc.cast(columns[node.label], pa.float64())
    if isinstance(node, Neg):
        return pc.negate(_columns(node.operand, columns))
    left = _columns(node.left, columns)
    right = _columns(node.right, columns)
    if node.op in _ARROW_OPS:
        return _ARROW_OPS[node.op](left, right)
    zero = pc.equal(right, pa.scalar(0.0))
    return pc.if_else(zero, pa.scalar(None, pa.float64()), pc.divide(left, right))
