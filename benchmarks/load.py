"""Load: many threads sharing one Project give the answers each query gives alone, with bounded
connections and stable memory; large raw results stream as record batches in bounded memory.

    python -m benchmarks.load                       # 32 threads x 100 queries, DuckDB and PostgreSQL
    python -m benchmarks.load --threads 8 --per-thread 10 --engines duckdb --stream-rows 1000000

Prints a Markdown table (the figures in docs/reliability.md) and writes them as JSON
(``--out``, default ``benchmarks/results/load.json``). PostgreSQL comes from ``tests/pg.py``
(a throwaway local cluster, or ``SEGWISE_POSTGRES_DSN``).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import statistics
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

import segwise

QUERIES: list[dict[str, Any]] = [
    {"series": [{"event": "login", "measure": "unique_users"}], "time_grain": "day"},
    {"series": [{"event": "any", "measure": "dau"}], "time_grain": "week", "breakdown": ["platform"]},
    {
        "series": [{"event": "page_view", "measure": "unique_users"}, {"event": "purchase", "measure": "sum:revenue"}],
        "breakdown": ["country"],
        "breakdown_limit": 5,
        "time_grain": "week",
    },
    {"series": [{"event": "any", "measure": "events_per_user"}], "time_grain": "total", "breakdown": ["event"]},
    {
        "series": [
            {"event": "feature_used", "where": [{"property": "feature", "op": "in", "values": ["api", "search"]}]}
        ],
        "time_grain": "hour",
        "date_range": {"from": "2025-01-10", "to": "2025-01-12"},
    },
    {"series": [{"event": "payment", "measure": "median:amount"}], "time_grain": "month"},
    {"series": [{"event": "any", "measure": "wau"}], "time_grain": "day", "breakdown": ["account_type"]},
    {"series": [{"event": {"any_of": ["signup", "login"]}, "measure": "unique_users"}], "time_grain": "day"},
]
for _q in QUERIES:
    _q.setdefault("date_range", {"from": "2025-01-01", "to": "2025-01-31"})


def rss_mb() -> float:
    """Resident memory of this process now (Linux /proc), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Sampler(threading.Thread):
    """Samples a value every few milliseconds and keeps the maximum."""

    def __init__(self, probe: Any, every: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.probe = probe
        self.every = every
        self.peak = probe()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, self.probe())
            time.sleep(self.every)

    def stop(self) -> Any:
        self.done.set()
        self.join()
        return self.peak


@dataclass
class LoadFigures:
    engine: str
    threads: int
    queries: int
    wrong: int
    errors: int
    wall_s: float
    per_s: float
    p50_ms: float
    p95_ms: float
    peak_statements: int
    connection_bound: str
    rss_before_mb: float
    rss_after_mb: float
    rss_peak_mb: float


def same_answer(got: pa.Table, want: pa.Table) -> bool:
    """Equal tables, floats to the documented tolerance (rel 1e-9): a parallel plan may sum
    the same floats in another order (PostgreSQL's parallel aggregates do), changing last bits."""
    if got.schema != want.schema or got.num_rows != want.num_rows:
        return False
    for name in got.column_names:
        a, b = got.column(name).to_pylist(), want.column(name).to_pylist()
        if pa.types.is_floating(got.schema.field(name).type):
            if any(
                (x is None) != (y is None) or (x is not None and y is not None and not math.isclose(x, y, rel_tol=1e-9))
                for x, y in zip(a, b, strict=True)
            ):
                return False
        elif a != b:
            return False
    return True


def running_statements(adapter: Any) -> int:
    """Statements the adapter has in flight (DuckDB cursors, PostgreSQL pooled connections in use)."""
    pool = getattr(adapter, "pool", None)
    if pool is not None:
        return int(pool.open)
    return len(getattr(adapter, "_running", ()))


def load(engine: str, url: str, threads: int, per_thread: int) -> LoadFigures:
    project = segwise.Project(
        warehouse=url, event_tables=[{"table": "events", "event_name": "event_name"}], user_tables=[{"table": "users"}]
    )
    alone = [project.run(q) for q in QUERIES]  # also warms the catalog
    for _ in range(2):  # steady state before measuring memory
        for q in QUERIES:
            project.run(q)
    gc.collect()
    before = rss_mb()
    adapter = project.adapter()
    statements = Sampler(lambda: running_statements(adapter), every=0.002)
    memory = Sampler(rss_mb, every=0.02)
    statements.start()
    memory.start()
    latencies: list[float] = []
    wrong = errors = 0
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def worker(index: int) -> None:
        nonlocal wrong, errors
        barrier.wait()
        for i in range(per_thread):
            k = (index + i) % len(QUERIES)
            began = time.perf_counter()
            try:
                table = project.run(QUERIES[k])
                ok = same_answer(table, alone[k])
            except segwise.SegwiseError:
                ok = None
            took = time.perf_counter() - began
            with lock:
                latencies.append(took)
                if ok is None:
                    errors += 1
                elif not ok:
                    wrong += 1

    began = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - began
    peak_statements = statements.stop()
    peak_rss = memory.stop()
    gc.collect()
    after = rss_mb()
    bound = f"pool of {adapter.pool.size} connections" if hasattr(adapter, "pool") else "one cursor per statement"
    project.close()
    ordered = sorted(latencies)
    return LoadFigures(
        engine=engine,
        threads=threads,
        queries=len(latencies),
        wrong=wrong,
        errors=errors,
        wall_s=round(wall, 2),
        per_s=round(len(latencies) / wall, 1),
        p50_ms=round(statistics.median(ordered) * 1000, 1),
        p95_ms=round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 1),
        peak_statements=peak_statements,
        connection_bound=bound,
        rss_before_mb=round(before, 1),
        rss_after_mb=round(after, 1),
        rss_peak_mb=round(peak_rss, 1),
    )


@dataclass
class StreamFigures:
    engine: str
    rows: int
    batches: int
    result_mb: float
    rss_growth_peak_mb: float
    largest_batch_mb: float


def stream(engine: str, adapter: Any, sql: str) -> StreamFigures:
    """Iterate ``adapter.execute_batches(sql)`` keeping nothing; memory sampled throughout."""
    gc.collect()
    base = rss_mb()
    memory = Sampler(rss_mb, every=0.01)
    memory.start()
    rows = batches = 0
    total = largest = 0
    for batch in adapter.execute_batches(sql):
        rows += batch.num_rows
        batches += 1
        total += batch.nbytes
        largest = max(largest, batch.nbytes)
        del batch
    peak = memory.stop()
    return StreamFigures(
        engine, rows, batches, round(total / 2**20, 1), round(peak - base, 1), round(largest / 2**20, 2)
    )


def stream_sql(engine: str, rows: int) -> str:
    if engine == "duckdb":
        return f"SELECT i, i * 1.5 AS x, 'row number ' || i AS label FROM range({rows}) t(i)"
    return f"SELECT i, i * 1.5::float8 AS x, 'row number ' || i AS label FROM generate_series(1, {rows}) AS t(i)"


def setup(engines: list[str], directory: Path) -> dict[str, str]:
    from tests.backends import BACKENDS
    from tests.fuzz import fuzz_tables

    tables = fuzz_tables()
    return {engine: BACKENDS[engine].load(tables, directory, "load") for engine in engines}


def markdown(load_figures: list[LoadFigures], stream_figures: list[StreamFigures]) -> str:
    lines = [
        "| engine | threads x queries | wrong | errors | wall | queries/s | p50 | p95 | peak statements (bound) "
        "| RSS before / peak / after |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for f in load_figures:
        lines.append(
            f"| {f.engine} | {f.threads} x {f.queries // f.threads} | {f.wrong} | {f.errors} | {f.wall_s} s "
            f"| {f.per_s} "
            f"| {f.p50_ms} ms | {f.p95_ms} ms | {f.peak_statements} ({f.connection_bound}) "
            f"| {f.rss_before_mb} / {f.rss_peak_mb} / {f.rss_after_mb} MB |"
        )
    lines += [
        "",
        "| engine | rows streamed | batches | result size | largest batch | peak RSS growth |",
        "|---|---|---|---|---|---|",
    ]
    for s in stream_figures:
        lines.append(
            f"| {s.engine} | {s.rows:,} | {s.batches} | {s.result_mb} MB | {s.largest_batch_mb} MB "
            f"| {s.rss_growth_peak_mb} MB |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--per-thread", type=int, default=100)
    parser.add_argument("--engines", default="duckdb,postgresql")
    parser.add_argument("--stream-rows", type=int, default=5_000_000)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "load.json")
    args = parser.parse_args(argv)
    engines = args.engines.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        urls = setup(engines, Path(tmp))
        load_figures = [load(e, urls[e], args.threads, args.per_thread) for e in engines]
        stream_figures = []
        for engine in engines:
            project = segwise.Project(warehouse=urls[engine], event_tables=[{"table": "events", "event_name": "e"}])
            stream_figures.append(stream(engine, project.adapter(), stream_sql(engine, args.stream_rows)))
            project.close()
    print(markdown(load_figures, stream_figures))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"load": [asdict(f) for f in load_figures], "stream": [asdict(s) for s in stream_figures]}
    args.out.write_text(json.dumps(payload, indent=2) + "\n")
    return 0 if all(f.wrong == 0 and f.errors == 0 for f in load_figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
