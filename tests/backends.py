"""Loading test data into each live engine.

A backend takes named pyarrow tables, stores them in its engine, and returns the warehouse URL
for a project. The shared suite is parametrized over ``BACKENDS``; each engine's own setup
(files, servers) lives here so that tests stay engine-agnostic.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa


class Backend:
    name: str = ""

    def load(self, tables: dict[str, pa.Table], directory: Path, dataset: str) -> str:
        """Store ``tables`` (name -> Arrow table) and return the warehouse URL."""
        raise NotImplementedError


class DuckDBBackend(Backend):
    name = "duckdb"

    def load(self, tables: dict[str, pa.Table], directory: Path, dataset: str) -> str:
        path = directory / f"{dataset}.duckdb"
        if not path.exists():
            con = duckdb.connect(str(path))
            for table_name, table in tables.items():
                con.register("_incoming", table)
                con.execute(f'CREATE TABLE "{table_name}" AS SELECT * FROM _incoming')
                con.unregister("_incoming")
            con.close()
        return f"duckdb:///{path}"


BACKENDS: dict[str, Backend] = {"duckdb": DuckDBBackend()}
