"""Results and SQL as the interfaces show them: JSON rows, Arrow IPC bytes, pretty SQL.

The command line (``segwise run --format json``, ``segwise sql``), the HTTP API and the charts of
``--plot`` all print results and SQL the same way; this module is that one way. It sits below
``cli``, ``server`` and ``plot`` and imports none of them.

    >>> to_records(pa.table({"bucket": [datetime(2025, 1, 1)], "value": [3]}))
    [{'bucket': '2025-01-01T00:00:00', 'value': 3}]
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import pyarrow as pa

__all__ = ["arrow_stream", "json_value", "pretty_sql", "records", "to_records"]


def to_records(table: pa.Table) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (timestamps as ISO 8601 strings)."""
    records = table.to_pylist()
    for record in records:
        for key, value in record.items():
            if isinstance(value, (datetime, date)):
                record[key] = value.isoformat()
    return records


def records(table: pa.Table) -> list[dict[str, Any]]:
    """The rows as ``--format json`` prints them (ISO 8601 timestamps), with NaN as null."""
    rows = to_records(table)
    for row in rows:
        for key, value in row.items():
            if isinstance(value, float) and not math.isfinite(value):
                row[key] = None
    return rows


def json_value(value: Any) -> Any:
    """One value as JSON can hold it: ISO 8601 dates, null for NaN and infinities, hex for bytes."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def arrow_stream(table: pa.Table) -> bytes:
    """The table as an Arrow IPC stream."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def pretty_sql(expression: Any, dialect: str) -> str:
    """``expression`` rendered for ``dialect``, indented, with a closing semicolon."""
    from .registry import get_flavor

    flavor = get_flavor(dialect)
    return flavor.render(expression.copy(), pretty=True) + ";"
