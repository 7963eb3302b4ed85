"""The lifecycle answer in its contract shape: ``bucket``, breakdown columns, ``status``, ``value``.

The warehouse returns users per (bucket, groups, status) where that is non-zero; every bucket of
the range x the four statuses is filled with 0 for every group seen (one group without a
breakdown). Sorted by breakdown values (nulls last), status (new, returning, resurrecting,
dormant), bucket. Arrow and numpy over whole columns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .group_order import arrow_sort_columns
from .query import LIFECYCLE_STATUSES as STATUSES
from .shape_stickiness import BUCKET, combos, group_index, naive_buckets, zoned

if TYPE_CHECKING:
    from .compiled import CompiledQuery


def shape_lifecycle(raw: pa.Table, compiled: CompiledQuery) -> pa.Table:
    tf = compiled.timeframe
    names = [f"_g{j}" for j in range(len(compiled.breakdown))]
    starts = list(tf.buckets)
    found = combos(raw, names)
    k, b, s = found.num_rows, len(starts), len(STATUSES)
    counts = np.zeros(k * s * b, dtype=np.int64)  # group-major, then status, then bucket
    if raw.num_rows and k:
        group = group_index(raw, found, names)
        at = pc.index_in(naive_buckets(raw["bucket"]), value_set=pa.array(starts, type=BUCKET))
        bucket = np.asarray(at.to_numpy(zero_copy_only=False), dtype=np.float64)
        status = np.asarray(
            pc.index_in(raw["status"], value_set=pa.array(STATUSES)).to_numpy(zero_copy_only=False), dtype=np.float64
        )
        inside = ~np.isnan(bucket) & ~np.isnan(status)
        position = (group * s + np.nan_to_num(status)).astype(np.int64) * b + np.nan_to_num(bucket).astype(np.int64)
        values = np.asarray(pc.cast(raw["value"], pa.int64()).to_numpy(), dtype=np.int64)
        np.add.at(counts, position[inside], values[inside])
    group_of_cell = pa.array(np.repeat(np.arange(k, dtype=np.int64), s * b))
    table = pa.table(
        {
            "bucket": pa.array(starts, type=BUCKET).take(pa.array(np.tile(np.arange(b), k * s))),
            **{g: found[g].take(group_of_cell) for g in names},
            "status": pa.array(STATUSES).take(pa.array(np.tile(np.repeat(np.arange(s), b), k))),
            "value": pa.array(counts, type=pa.int64()),
        }
    )
    order: dict[str, pa.ChunkedArray | pa.Array] = {}
    for g, group_order in zip(names, compiled.group_orders, strict=True):
        order.update({f"{g}_{i}": key for i, key in enumerate(arrow_sort_columns(table[g], group_order))})
    order["_status"] = pc.index_in(table["status"], value_set=pa.array(STATUSES))
    order["bucket"] = table["bucket"]
    table = table.take(pc.sort_indices(pa.table(order), sort_keys=[(name, "ascending") for name in order]))
    arrays = [zoned(table["bucket"].combine_chunks(), tf.timezone)]
    arrays += [table[g].combine_chunks() for g in names]
    arrays += [table["status"].combine_chunks(), table["value"].combine_chunks()]
    return pa.Table.from_arrays(arrays, names=["bucket", *compiled.breakdown, "status", "value"])
