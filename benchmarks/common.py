"""Helpers the benchmark runners share: a warmed-up median timer and a tolerant row comparison."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from typing import Any


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median seconds of ``repeat`` calls after one warm-up call, and the last result."""
    result = fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), result


def timed_together(fns: list[Callable[[], Any]], repeat: int) -> list[tuple[float, Any]]:
    """``timed`` for several calls interleaved (one warm-up each, then ``repeat`` rounds of all in
    turn), so a noisy machine slows them alike: (median seconds, last result) per call."""
    results = [fn() for fn in fns]
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            started = time.perf_counter()
            results[i] = fn()
            samples[i].append(time.perf_counter() - started)
    return [(statistics.median(s), r) for s, r in zip(samples, results, strict=True)]


def same(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    """The same rows in the same order; floats equal to 1e-9 (relative or absolute), NaN = NaN."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        for key in y:
            u, v = x.get(key), y[key]
            if isinstance(v, float) and isinstance(u, float):
                if not (math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-9) or (math.isnan(u) and math.isnan(v))):
                    return False
            elif u != v:
                return False
    return True
