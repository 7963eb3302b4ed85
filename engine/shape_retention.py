"""The retention answer in its contract shape: ``cohort``, breakdown columns, ``period``,
``count``, ``cohort_size``, ``rate``.

The warehouse returns units per (cohort number, groups, period) where that is non-zero (period 0:
the cohort's size; "on or after": each unit at its last return period, capped). Here, on whole
numpy arrays: groups beyond ``breakdown_limit`` (ranked by summed cohort size, ties by value,
nulls last) merge into ``Other`` (a unit is in one group, so sums stay exact); the grid group x
cohort x period is filled with 0; "on or after" sums the periods from k on; only the periods
that started before now are kept (the plan's ``ReturnPeriods.frame``); summary rows (cohort null) sum
each period over the cohorts that report it. Sorted by cohort (summary last), breakdown, period.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .group_order import Order, arrow_sort_columns
from .plan_retention import return_periods
from .shape_stickiness import BUCKET, combos, group_index, zoned

if TYPE_CHECKING:
    from .compiled import CompiledQuery

OTHER = "Other"


def _ints(column: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.cast(column, pa.int64()).to_numpy(), dtype=np.int64)


def _sorted_groups(found: pa.Table, names: list[str], orders: Sequence[Order] = ()) -> np.ndarray:
    """The order of ``found``'s groups: by value, nulls last, column by column; ``orders``: the
    answer's (a category's values in declaration order, ``else`` last), else by text."""
    if not names:
        return np.arange(found.num_rows, dtype=np.int64)
    order: dict[str, pa.ChunkedArray | pa.Array] = {}
    for g, group_order in zip(names, orders or [None] * len(names), strict=True):
        order.update({f"{g}_{i}": key for i, key in enumerate(arrow_sort_columns(found[g], group_order))})
    keys = [(name, "ascending") for name in order]
    return np.asarray(pc.sort_indices(pa.table(order), sort_keys=keys).to_numpy(), dtype=np.int64)


def _top(found: pa.Table, names: list[str], group: np.ndarray, sizes: np.ndarray, limit: int) -> tuple:
    """Keep the ``limit`` groups with the largest summed cohort size (ties: value order), the rest
    one ``Other`` group; returns the new groups and each raw row's new group."""
    by_size = np.zeros(found.num_rows, dtype=np.int64)
    np.add.at(by_size, group, sizes)
    value_rank = np.empty(found.num_rows, dtype=np.int64)
    value_rank[_sorted_groups(found, names)] = np.arange(found.num_rows)
    ranked = np.lexsort((value_rank, -by_size))
    kept = np.sort(ranked[:limit])
    new_of_old = np.full(found.num_rows, len(kept), dtype=np.int64)
    new_of_old[kept] = np.arange(len(kept))
    other = pa.table({g: pa.array([OTHER], pa.string()) for g in names})
    merged = pa.concat_tables([found.take(pa.array(kept)), other])
    return merged, new_of_old[group]


def shape_retention(raw: pa.Table, compiled: CompiledQuery) -> pa.Table:
    spec = return_periods(compiled.plan)  # the plan's frame, periods and cumulative (planner._retention)
    tf = compiled.timeframe
    frame = spec.frame
    names = [f"_g{j}" for j in range(len(compiled.breakdown))]
    width = spec.periods + 1
    cohorts = frame.cohorts
    found = combos(raw, names)
    group = group_index(raw, found, names) if raw.num_rows else np.zeros(0, dtype=np.int64)
    cohort, period, units = (_ints(raw[c]) if raw.num_rows else np.zeros(0, np.int64) for c in ("_c", "_p", "_n"))
    limit = compiled.query.breakdown_limit
    if names and limit is not None and found.num_rows > limit:
        found, group = _top(found, names, group, np.where(period == 0, units, 0), limit)
    k = found.num_rows
    grid = np.zeros((k, cohorts, width), dtype=np.int64)
    inside = (cohort >= 0) & (cohort < cohorts) & (period >= 0) & (period < width)
    np.add.at(grid, (group[inside], cohort[inside], period[inside]), units[inside])
    if spec.cumulative:  # on or after: period k counts the units whose last return is k or later
        grid[:, :, 1:] = np.flip(np.cumsum(np.flip(grid[:, :, 1:], axis=2), axis=2), axis=2)
    sizes = np.broadcast_to(grid[:, :, :1], grid.shape)
    reported = np.array([frame.reported(c) for c in range(cohorts)], dtype=np.int64)
    shown = np.arange(width)[None, :] < reported[:, None]  # cohort x period

    order = _sorted_groups(found, names, compiled.group_orders)
    # cohort rows: cohort-major, then groups in order, then period
    c_ix, g_ix, p_ix = np.meshgrid(np.arange(cohorts), order, np.arange(width), indexing="ij")
    keep = shown[c_ix, p_ix]
    c_ix, g_ix, p_ix = c_ix[keep], g_ix[keep], p_ix[keep]
    counts = grid[g_ix, c_ix, p_ix]
    size = sizes[g_ix, c_ix, p_ix]
    # summary rows: per group (in order) and period, over the cohorts reporting the period
    summed = (grid * shown[None, :, :]).sum(axis=1)
    summed_sizes = (sizes * shown[None, :, :]).sum(axis=1)
    periods_shown = int(reported.max()) if cohorts else 0
    sg, sp = np.meshgrid(order, np.arange(periods_shown), indexing="ij")
    sg, sp = sg.ravel(), sp.ravel()

    all_groups = np.concatenate([g_ix, sg])
    all_counts = np.concatenate([counts, summed[sg, sp]])
    all_sizes = np.concatenate([size, summed_sizes[sg, sp]])
    starts = pa.array(list(frame.buckets[:cohorts]), type=BUCKET)
    cohort_col = pa.concat_arrays(
        [zoned(starts.take(pa.array(c_ix)), tf.timezone), pa.nulls(len(sg), pa.timestamp("us", tz=tf.timezone))]
    )
    rate = np.divide(all_counts, all_sizes, out=np.zeros(len(all_counts)), where=all_sizes > 0)
    arrays = [cohort_col]
    arrays += [found[g].combine_chunks().cast(pa.string()).take(pa.array(all_groups)) for g in names]
    arrays += [
        pa.array(np.concatenate([p_ix, sp]), type=pa.int64()),
        pa.array(all_counts, type=pa.int64()),
        pa.array(all_sizes, type=pa.int64()),
        pa.array(rate, type=pa.float64(), mask=all_sizes == 0),
    ]
    return pa.Table.from_arrays(arrays, names=["cohort", *compiled.breakdown, "period", "count", "cohort_size", "rate"])
