"""The dense answer of a segmentation without breakdown: every output series over every bucket,
then each formula over the same buckets. Its shape (which cell goes to which row of the sorted
answer, the bucket and series columns, each cell's fill) depends only on the compiled query, so it
is built once per compiled query (:class:`DenseLayout`, kept in :data:`LAYOUTS`) and a repeated
query only scatters the warehouse's values into it (:func:`dense_answer`): a few numpy operations
whatever the number of buckets, no sort, no text column built again.

``segwise.execute.shape_result`` builds the layout with its general algorithm (so both give the
same table) and falls back to that algorithm where the dense form does not hold: a breakdown, a
frequency distribution, a found row off the grid or the same cell twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from .cache import PairMemo
from .formulas import Node, evaluate_arrays


def position(values: np.ndarray, valid: np.ndarray, sorted_values: np.ndarray) -> np.ndarray:
    """Each of ``values``' position in ``sorted_values`` (ascending, distinct); -1 where absent or null."""
    if not len(sorted_values):
        return np.full(len(values), -1, dtype=np.int64)
    index = np.minimum(np.searchsorted(sorted_values, values), len(sorted_values) - 1)
    return np.where((sorted_values[index] == values) & valid, index, -1)


@dataclass(frozen=True)
class CellKeys:
    """Where a found row goes: its key ``output * span + bucket - base`` looked up in ``keys``
    (ascending) gives its cell (``cells``; -1: a bucket that lands off the grid). A row whose key is
    absent is dropped where its output ``drops`` (a previous period's bucket beyond the current
    range's length), else it is off the grid."""

    keys: np.ndarray
    cells: np.ndarray
    drops: np.ndarray
    base: int
    span: int

    def place(self, series: np.ndarray, bucket: np.ndarray, bucket_valid: np.ndarray) -> np.ndarray:
        """Each row's cell; -1 off the grid, -2 dropped (also a row of a series that is not an output)."""
        if not len(self.drops):  # no output series
            return np.full(len(series), -2, dtype=np.int64)
        mine = series >= 0
        lost = np.where(mine & ~self.drops[np.maximum(series, 0)], -1, -2)  # when its key is absent
        if not len(self.keys):
            return lost
        offset = bucket - self.base
        inside = mine & bucket_valid & (offset >= 0) & (offset < self.span)
        key = np.where(inside, series * self.span + offset, -1)
        index = np.minimum(np.searchsorted(self.keys, key), len(self.keys) - 1)
        return np.where(inside & (self.keys[index] == key), self.cells[index], lost)


@dataclass(frozen=True)
class DenseLayout:
    """A dense answer's fixed part. Cells are numbered series-major: output ``s``'s bucket ``i`` is
    cell ``s * width + i``; formula ``k``'s bucket ``i`` is cell ``(outputs + k) * width + i``."""

    grid: np.ndarray  # bucket starts, naive microseconds, ascending
    keys: CellKeys | None  # where found rows go (None: the keys would overflow; the general algorithm answers)
    fill_valid: np.ndarray  # per output cell: its series' fill is 0 (True) or null (False)
    value_dtype: np.dtype[Any]  # the found values' numpy type (int64 or float64)
    formulas: tuple[tuple[Node, tuple[str, ...], tuple[int, ...]], ...]  # tree, operand labels, their outputs
    order: np.ndarray  # the cells in the answer's order
    columns: tuple[pa.Array, ...]  # the answer's columns before ``value`` (bucket, series), in that order
    names: tuple[str, ...]  # the answer's column names
    value_type: pa.DataType

    @property
    def width(self) -> int:
        return len(self.grid)


def dense_answer(
    layout: DenseLayout,
    series: np.ndarray,
    bucket: np.ndarray,
    bucket_valid: np.ndarray,
    value: np.ndarray,
    valid: np.ndarray,
) -> pa.Table | None:
    """The answer from the found rows (series: output index, -1 for another series; bucket as the
    warehouse gave it, a previous period's not moved, and its validity; value and its validity), or
    None where the dense form does not hold (a found row off the grid, or two rows for one cell:
    the general algorithm keeps both)."""
    width = layout.width
    if layout.keys is None:
        return None
    cells = layout.keys.place(series, bucket, bucket_valid)
    kept = cells >= -1
    if not kept.all():  # rows of series that are not outputs, a previous bucket beyond the range
        cells, value, valid = cells[kept], value[kept], valid[kept]
    if len(cells) and cells.min() < 0:
        return None
    if len(cells) > 1 and np.bincount(cells).max() > 1:
        return None
    filled = len(layout.fill_valid)  # the output series' cells; the formulas' follow
    values = np.zeros(filled + len(layout.formulas) * width, dtype=layout.value_dtype)
    valids = np.ones(len(values), dtype=bool)
    valids[:filled] = layout.fill_valid
    values[cells] = value
    valids[cells] = valid
    for k, (tree, names, operands) in enumerate(layout.formulas):
        columns = {}
        for name, s in zip(names, operands, strict=True):
            columns[name] = (values[s * width : (s + 1) * width], valids[s * width : (s + 1) * width])
        start = filled + k * width
        values[start : start + width], valids[start : start + width] = evaluate_arrays(tree, columns, width)
    order = layout.order
    values, valids = values[order], valids[order]
    column = pa.array(values, type=layout.value_type, mask=None if valids.all() else ~valids)
    return pa.Table.from_arrays([*layout.columns, column], names=list(layout.names))


LAYOUTS = PairMemo()
"""Dense layouts by (compiled query, its time frame), both immutable and held weakly: a compiled
query from the compiled-query cache (``segwise.pipeline.COMPILED``) keeps its layout."""
