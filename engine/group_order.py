"""The order of breakdown values in an answer: text by code point, nulls last; a category's
values in declaration order, ``else`` last (docs/queries.md, "Categories"). One place for the
shaping in Arrow (segmentation, stickiness, lifecycle) and the SQL to paste."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

if TYPE_CHECKING:
    from segwise.adapters.base import SqlFlavor

Order = tuple[str, ...] | None  # a category's labels in order, or None: by text


def dictionary_rank(dictionary: pa.Array, order: Order) -> np.ndarray:
    """Each dictionary entry's rank in the answer's order, then one more for null (index -1)."""
    sorted_positions = np.asarray(pc.sort_indices(dictionary), dtype=np.int64)
    if order is not None:  # declared labels first, in their order; anything else after, by text
        declared = np.asarray(pc.fill_null(pc.index_in(dictionary, value_set=pa.array(order)), len(order)))
        text_rank = np.empty(len(sorted_positions), dtype=np.int64)
        text_rank[sorted_positions] = np.arange(len(sorted_positions))
        sorted_positions = np.lexsort((text_rank, declared)).astype(np.int64)
    rank = np.empty(len(sorted_positions) + 1, dtype=np.int64)
    rank[sorted_positions] = np.arange(len(sorted_positions))
    rank[-1] = len(sorted_positions)
    return rank


def arrow_sort_columns(column: pa.Array | pa.ChunkedArray, order: Order) -> list[pa.Array | pa.ChunkedArray]:
    """Sort keys (all ascending) that put ``column`` in the answer's order."""
    keys: list[pa.Array | pa.ChunkedArray] = [pc.is_null(column)]
    if order is not None:
        keys.append(pc.fill_null(pc.index_in(column, value_set=pa.array(order)), len(order)))
    return [*keys, column]


def sql_sort_keys(column: exp.Expr, order: Order, flavor: SqlFlavor) -> list[exp.Expr]:
    """``ORDER BY`` keys that put ``column`` in the answer's order (nulls last)."""
    null_last = exp.Case(
        ifs=[exp.If(this=exp.Is(this=column.copy(), expression=exp.Null()), true=exp.Literal.number(1))],
        default=exp.Literal.number(0),
    )
    keys: list[exp.Expr] = [null_last]
    if order is not None:
        ifs = [
            exp.If(this=exp.EQ(this=column.copy(), expression=exp.Literal.string(label)), true=exp.Literal.number(i))
            for i, label in enumerate(order)
        ]
        keys.append(exp.Case(ifs=ifs, default=exp.Literal.number(len(order))))
    return [*keys, flavor.text_sort_key(column.copy())]
