"""Observing queries: every statement sent to a warehouse is reported to plugins."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

    from segwise.adapters.base import Adapter


@dataclass(frozen=True)
class QueryEvent:
    """What ``segwise_query_executed`` receives."""

    adapter: str
    sql: str
    duration_s: float
    rows: int | None
    error: BaseException | None = None


def execute_observed(adapter: Adapter, sql: str) -> pa.Table:
    """Run ``sql`` on ``adapter`` and report it to the ``segwise_query_executed`` hook."""
    from .registry import get_plugin_manager

    hook = get_plugin_manager().hook.segwise_query_executed
    started = time.perf_counter()
    try:
        table = adapter.execute(sql)
    except BaseException as exc:
        hook(event=QueryEvent(adapter.name, sql, time.perf_counter() - started, None, exc))
        raise
    hook(event=QueryEvent(adapter.name, sql, time.perf_counter() - started, table.num_rows))
    return table
