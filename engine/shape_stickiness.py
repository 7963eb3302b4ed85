"""The stickiness answer in its contract shape: ``bucket``, breakdown columns, ``days``, ``value``.

The warehouse returns users per (bucket, groups, days active) where that is non-zero. Every
``days`` from 1 to D (the bucket's local days inside the range) is filled with 0 for every group
seen; ``cumulative`` turns "exactly d days" into "at least d days" (a reverse running sum within
each bucket and group). Sorted by breakdown values (nulls last), bucket, days. Arrow and numpy
over whole columns; the only Python loops run over buckets, never over rows.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .group_order import arrow_sort_columns

if TYPE_CHECKING:
    from .compiled import CompiledQuery
    from .timeframe import Timeframe

BUCKET = pa.timestamp("us")


def bucket_days(tf: Timeframe) -> list[int]:
    """D for each bucket: its local calendar days that overlap the range ``[start, end)``."""
    starts = [tf.start] if tf.grain == "total" else list(tf.buckets)
    days = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else tf.end
        first: date = max(start, tf.start).date()
        last: date = (min(end, tf.end) - timedelta(microseconds=1)).date()
        days.append(max(0, (last - first).days + 1))
    return days


def shape_stickiness(raw: pa.Table, compiled: CompiledQuery) -> pa.Table:
    tf = compiled.timeframe
    names = [f"_g{j}" for j in range(len(compiled.breakdown))]
    starts: list[datetime] = [tf.start] if tf.grain == "total" else list(tf.buckets)
    spans = np.array(bucket_days(tf), dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(spans)[:-1]])  # where each bucket's days begin in a group
    per_group = int(spans.sum())
    found = combos(raw, names)
    k = found.num_rows

    # the grid: group-major, then bucket, then days 1..D
    bucket_index = np.repeat(np.arange(len(starts), dtype=np.int64), spans)
    days_in_group = np.concatenate([np.arange(1, n + 1, dtype=np.int64) for n in spans] or [np.zeros(0, np.int64)])
    counts = np.zeros(k * per_group, dtype=np.int64)
    if raw.num_rows and k:
        group = group_index(raw, found, names)
        if tf.grain == "total":
            at = np.zeros(raw.num_rows, dtype=np.int64)
        else:
            located = pc.index_in(naive_buckets(raw["bucket"]), value_set=pa.array(starts, type=BUCKET))
            at = np.asarray(located.to_numpy(zero_copy_only=False), dtype=np.int64)
        days = np.asarray(pc.cast(raw["days"], pa.int64()).to_numpy(), dtype=np.int64)
        inside = (days >= 1) & (days <= spans[at])  # a user is active on at most D days of a bucket
        position = group * per_group + offsets[at] + days - 1
        values = np.asarray(pc.cast(raw["value"], pa.int64()).to_numpy(), dtype=np.int64)
        np.add.at(counts, position[inside], values[inside])
    if compiled.query.cumulative:  # at least d days: the counts of d, d + 1, ..., D
        counts = _at_least(counts, spans, k)

    grid_group = pa.array(np.repeat(np.arange(k, dtype=np.int64), per_group))
    bucket = pa.array(starts, type=BUCKET).take(pa.array(np.tile(bucket_index, k)))
    table = pa.table({"bucket": bucket})
    for g in names:
        table = table.append_column(g, found[g].take(grid_group))
    table = table.append_column("days", pa.array(np.tile(days_in_group, k), type=pa.int64()))
    table = table.append_column("value", pa.array(counts, type=pa.int64()))
    order: dict[str, pa.ChunkedArray | pa.Array] = {}
    for g, group_order in zip(names, compiled.group_orders, strict=True):
        order.update({f"{g}_{i}": key for i, key in enumerate(arrow_sort_columns(table[g], group_order))})
    order["bucket"] = table["bucket"]
    order["days"] = table["days"]
    table = table.take(pc.sort_indices(pa.table(order), sort_keys=[(name, "ascending") for name in order]))
    arrays = [zoned(table["bucket"].combine_chunks(), tf.timezone)]
    arrays += [table[g].combine_chunks() for g in names]
    arrays += [table["days"].combine_chunks(), table["value"].combine_chunks()]
    return pa.Table.from_arrays(arrays, names=["bucket", *compiled.breakdown, "days", "value"])


def _at_least(counts: np.ndarray, spans: np.ndarray, groups: int) -> np.ndarray:
    """Within every (group, bucket) run of D counts, the sum of each count and those after it."""
    out = counts.copy()
    start = 0
    for _group in range(groups):
        for span in spans:
            run = slice(start, start + int(span))
            out[run] = np.cumsum(counts[run][::-1])[::-1]
            start += int(span)
    return out


def combos(raw: pa.Table, names: list[str]) -> pa.Table:
    """The breakdown groups the warehouse found (one group, with no columns, without a breakdown)."""
    if not names:
        return pa.table({"_": [0]}).drop_columns(["_"])  # num_rows 1
    text = raw.select(names).cast(pa.schema([pa.field(n, pa.string()) for n in names]))
    return text.group_by(names, use_threads=False).aggregate([])


def group_index(raw: pa.Table, combos: pa.Table, names: list[str]) -> np.ndarray:
    """Each raw row's group: its position among ``combos`` (null values match nulls)."""
    if not names:
        return np.zeros(raw.num_rows, dtype=np.int64)
    keys = [_null_safe(pc.cast(raw[n], pa.string())) for n in names]
    known = [_null_safe(combos[n]) for n in names]
    joined = pc.binary_join_element_wise(*keys, "\x1f") if len(keys) > 1 else keys[0]
    reference = pc.binary_join_element_wise(*known, "\x1f") if len(known) > 1 else known[0]
    found = pc.index_in(joined, value_set=reference.combine_chunks())
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int64)


def _null_safe(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.fill_null(pc.binary_join_element_wise("1", column, ""), "0")


def naive_buckets(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Bucket starts as naive local timestamps (zoned values as wall-clock time, text parsed)."""
    if pa.types.is_timestamp(column.type) and column.type.tz is not None:
        column = pc.local_timestamp(column)
    return pc.cast(column, BUCKET, safe=False)


def zoned(buckets: pa.Array, timezone: str) -> pa.Array:
    if timezone == "UTC":
        return buckets.cast(pa.timestamp("us", tz="UTC"))
    return pc.assume_timezone(buckets, timezone=timezone, ambiguous="earliest", nonexistent="latest")
