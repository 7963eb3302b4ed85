"""Vectorised sampling helpers of the demo generator, and the day-by-day weights of its traffic.

Every helper draws from the ``numpy.random.Generator`` it is given, in a fixed order; none loops in
Python per row. ``campaign_weights`` and ``url_weights`` give a category's weight per day of the
period (campaigns come and go, blog posts appear when published).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .model import DAY, HOUR, ORGANIC_SHARE, URL_MODEL


def probabilities(weights: Sequence[float] | np.ndarray) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return w / w.sum(axis=-1, keepdims=True)


_SCALE = 1 << 32  # resolution of the integer sampling thresholds


def choice(rng: np.random.Generator, n: int, weights: Sequence[float]) -> np.ndarray:
    return rng.choice(len(weights), size=n, p=probabilities(weights))


def choice_given(rng: np.random.Generator, parent: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Sample one category per row from the row of ``matrix`` (weights) chosen by ``parent``.

    Exact integer thresholds, all rows searched at once: a zero-weight category is never chosen.
    """
    k = matrix.shape[1]
    thresholds = np.round(np.cumsum(probabilities(matrix), axis=1) * _SCALE).astype(np.int64)
    thresholds[:, -1] = _SCALE
    rows = np.arange(matrix.shape[0], dtype=np.int64)[:, None] * _SCALE
    flat = (rows + thresholds).ravel()
    parent = parent.astype(np.int64)
    keys = parent * _SCALE + rng.integers(0, _SCALE, len(parent))
    return np.searchsorted(flat, keys, side="right") - parent * k


def expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For per-owner counts, the owner of each expanded row and the row's index within its owner."""
    counts = counts.astype(np.int64)
    owner = np.repeat(np.arange(len(counts)), counts)
    first = np.cumsum(counts) - counts
    within = np.arange(int(counts.sum())) - first[owner]
    return owner, within


def ceil_div(a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
    return -((-a) // b)


def weekday_of(epoch_day: np.ndarray) -> np.ndarray:
    return (epoch_day + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0


def local_time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Local time of day (µs): a working-hours peak and a smaller evening peak."""
    work = rng.random(n) < 0.62
    hours = np.where(work, rng.normal(14.0, 2.8, n), rng.normal(20.5, 1.8, n))
    return (hours * HOUR).astype(np.int64) % DAY


def at_local_time_of_day(
    rng: np.random.Generator, t: np.ndarray, offset: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """Move each time to a typical local time of its local day, when that stays in [lo, hi)."""
    local_day = (t + offset) // DAY
    moved = local_day * DAY + local_time_of_day(rng, len(t)) - offset
    return np.where((moved >= lo) & (moved < hi), moved, t)


def sample_by_day(rng: np.random.Generator, day: np.ndarray, per_day: np.ndarray) -> np.ndarray:
    """Sample a category per row from the weights of its day (``per_day``: days x categories)."""
    return choice_given(rng, np.clip(day, 0, per_day.shape[0] - 1), per_day)


def campaign_weights(days: int, first_epoch_day: int) -> np.ndarray:
    """days x (organic + campaigns): how campaign traffic evolves over the period."""
    d = np.arange(days, dtype=float)
    frac = d / max(days - 1, 1)
    weekday = weekday_of(first_epoch_day + np.arange(days))
    spring_sale = np.where((frac >= 0.38) & (frac < 0.55), 3.0, 0.0)
    newsletter = np.where(weekday == 1, 2.2, np.where(weekday == 2, 0.9, 0.15))
    brand_search = 0.8 + 0.6 * frac
    retargeting = np.clip((frac - 0.15) * 2.0, 0.0, 1.3)
    bursts = ((frac >= 0.1) & (frac < 0.16)) | ((frac >= 0.84) & (frac < 0.92))
    partner_promo = np.where(bursts, 2.5, 0.0)
    campaigns = np.column_stack([spring_sale, newsletter, brand_search, retargeting, partner_promo])
    organic = np.full(days, campaigns.sum(axis=1).mean() * ORGANIC_SHARE / (1 - ORGANIC_SHARE))
    return np.column_stack([organic, campaigns])


def url_weights(days: int, column: int) -> np.ndarray:
    """days x urls; blog posts appear when published and draw a burst of traffic that fades."""
    d = np.arange(days, dtype=float)
    out = np.empty((days, len(URL_MODEL)))
    for j, url in enumerate(URL_MODEL):
        base, published = url[column], url[3]
        if published is None:
            out[:, j] = base
        else:
            age = d - published * days
            out[:, j] = np.where(age >= 0, base * (1 + 5 * np.exp(-np.maximum(age, 0) / 8)), 0.0)
    return out
