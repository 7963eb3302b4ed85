"""The funnel answer in its contract shape: ``bucket``, breakdown columns, ``step``,
``step_label``, ``count``, ``conversion``, ``from_previous``, ``median_seconds``,
``avg_seconds`` (docs/queries.md, "Funnels").

The warehouse returns units and seconds per (bucket, groups, step) where some unit reached the
step; every entry bucket x group found x step is filled (count 0, times null), the rates come
from the counts. Sorted by breakdown values (nulls last), bucket, step. Arrow and numpy over
whole columns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .group_order import arrow_sort_columns
from .shape_stickiness import BUCKET, combos, group_index, naive_buckets, zoned

if TYPE_CHECKING:
    from .compiled import CompiledQuery
    from .query_funnel import Funnel


def step_labels(spec: Funnel) -> list[str]:
    """Each step's ``step_label``: its label (any order: ``any k of N``)."""
    n = len(spec.steps)
    if spec.order == "any":
        return [f"any {k} of {n}" for k in range(1, n + 1)]
    return [step.name for step in spec.steps]


def _rate(num: np.ndarray, den: np.ndarray) -> pa.Array:
    out = np.divide(num, den, out=np.zeros(len(num)), where=den > 0)
    return pa.array(out, type=pa.float64(), mask=den == 0)


def shape_funnel(raw: pa.Table, compiled: CompiledQuery) -> pa.Table:
    spec = compiled.query.funnel
    assert spec is not None
    tf = compiled.timeframe
    names = [f"_g{j}" for j in range(len(compiled.breakdown))]
    starts = [tf.start] if tf.grain == "total" else list(tf.buckets)
    found = combos(raw, names)
    g, b, s = found.num_rows, len(starts), len(spec.steps)
    cells = g * b * s  # group-major, then bucket, then step
    counts = np.zeros(cells, dtype=np.int64)
    medians = np.full(cells, np.nan)
    averages = np.full(cells, np.nan)
    if raw.num_rows and g:
        group = group_index(raw, found, names)
        if tf.grain == "total":
            bucket = np.zeros(raw.num_rows)
        else:
            at = pc.index_in(naive_buckets(raw["bucket"]), value_set=pa.array(starts, type=BUCKET))
            bucket = np.asarray(at.to_numpy(zero_copy_only=False), dtype=np.float64)
        step = np.asarray(pc.cast(raw["step"], pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64) - 1
        inside = ~np.isnan(bucket) & (step >= 0) & (step < s) & (group >= 0)
        position = ((group * b + np.nan_to_num(bucket).astype(np.int64)) * s + step)[inside]
        counts[position] = np.asarray(pc.cast(raw["count"], pa.int64()).to_numpy(zero_copy_only=False))[inside]
        for column, target in (("median_seconds", medians), ("avg_seconds", averages)):
            values = pc.cast(raw[column], pa.float64()).to_numpy(zero_copy_only=False)
            target[position] = np.asarray(values, dtype=np.float64)[inside]
    first = np.repeat(counts.reshape(-1, s)[:, 0], s)
    previous = np.zeros_like(counts)  # each cell's step before (step 1: itself, below)
    previous[1:] = counts[:-1]
    at_first = np.tile(np.arange(s) == 0, g * b)
    previous[at_first] = counts[at_first]
    timed = (counts > 0) & ~np.isnan(medians)
    cell_group = pa.array(np.repeat(np.arange(g, dtype=np.int64), b * s))
    table = pa.table(
        {
            "bucket": pa.array(starts, type=BUCKET).take(pa.array(np.tile(np.repeat(np.arange(b), s), g))),
            **{n: found[n].take(cell_group) for n in names},
            "step": pa.array(np.tile(np.arange(1, s + 1), g * b), type=pa.int64()),
            "step_label": pa.array(step_labels(spec)).take(pa.array(np.tile(np.arange(s), g * b))),
            "count": pa.array(counts, type=pa.int64()),
            "conversion": _rate(counts, first),
            "from_previous": _rate(counts, previous),
            "median_seconds": pa.array(medians, type=pa.float64(), mask=~timed),
            "avg_seconds": pa.array(averages, type=pa.float64(), mask=~timed),
        }
    )
    order: dict[str, pa.ChunkedArray | pa.Array] = {}
    for n, group_order in zip(names, compiled.group_orders, strict=True):  # categories: declaration order
        order.update({f"{n}_{i}": key for i, key in enumerate(arrow_sort_columns(table[n], group_order))})
    order["bucket"] = table["bucket"]
    order["step"] = table["step"]
    table = table.take(pc.sort_indices(pa.table(order), sort_keys=[(name, "ascending") for name in order]))
    arrays = [zoned(table["bucket"].combine_chunks(), tf.timezone)]
    arrays += [table[c].combine_chunks() for c in table.column_names[1:]]
    return pa.Table.from_arrays(arrays, names=["bucket", *compiled.breakdown, *table.column_names[1 + len(names) :]])
