"""Result-cache latency in the explorer: 50 concurrent clients replaying the gallery against
``segwise serve`` (issue #18), with the cache (the default) and with ``--no-cache``.

The server runs in its own process (``segwise serve --now NOW``, so relative ranges resolve alike
for every request and can hit) on the planner benchmark's DuckDB file (``--size``, 10M events by
default). Each of ``--clients`` clients (asyncio, one ``httpx2.AsyncClient`` each) posts every
gallery query to ``/api/query`` in its own shuffled order, ``--rounds`` times; the latency of a
request is measured by the client (sending to the last byte of the JSON answer). With the cache,
one untimed round first fills it (every query once, sequentially), so the timed rounds are hits —
``X-Segwise-Cache`` is counted to show it. Without the cache every request goes to DuckDB
(``--max-concurrent`` at a time, the server's default 4), so that side runs ``--cold-rounds``
rounds (default 1). A third side, **cold start**, is the cache without the filling round: the
clients start at once on an empty cache, so identical questions arrive together and single flight
(``segwise.flight``) runs each once; ``--against-rev REV`` adds the same cold start under revision
REV's package (``benchmarks.overhead.export_revision``), before single flight. Reported: p50, p95,
max and throughput per side; the answers of all sides are checked equal per query.

    python -m benchmarks.serve_cache                      # 10M events, 50 clients
    python -m benchmarks.serve_cache --size 1m --rounds 5 --json benchmarks/results/serve-cache.json
    python -m benchmarks.serve_cache --size 1m --against-rev 6012aa3   # cold start before/after
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx2
import yaml

from benchmarks.overhead import ROOT, ensure_data, export_revision
from benchmarks.planner import NOW, SIZES, gallery_queries, project_for


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    project_file: Path, port: int, cache: bool, max_concurrent: int, package: Path | None = None
) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "segwise.cli", "serve", "-p", str(project_file), "--port", str(port)]
    command += ["--now", NOW.isoformat(), "--max-concurrent", str(max_concurrent), "--timeout", "600"]
    if not cache:
        command.append("--no-cache")
    env = dict(os.environ)
    if package is not None:  # another revision's package first on the path
        env["PYTHONPATH"] = os.pathsep.join([str(package), str(ROOT)])
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/api/examples", timeout=5).status_code == 200:
                return server
        except httpx2.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("segwise serve did not answer within 120 s")


async def replay(
    base: str, queries: dict[str, dict[str, Any]], clients: int, rounds: int, seed: int
) -> tuple[list[float], Counter[str], dict[str, Any], float]:
    """Every client posts every query ``rounds`` times in its own order; latencies in ms."""
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    answers: dict[str, Any] = {}
    limits = httpx2.Limits(max_connections=1)

    async def client(index: int) -> None:
        order = random.Random(seed + index)
        async with httpx2.AsyncClient(base_url=base, timeout=900, limits=limits) as http:
            for _ in range(rounds):
                names = list(queries)
                order.shuffle(names)
                for name in names:
                    started = time.perf_counter()
                    response = await http.post("/api/query", json=queries[name])
                    body = response.json()
                    latencies.append((time.perf_counter() - started) * 1000)
                    if response.status_code != 200:
                        raise RuntimeError(f"{name}: HTTP {response.status_code}: {body}")
                    statuses[response.headers.get("X-Segwise-Cache", "?")] += 1
                    answers.setdefault(name, body)

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    return latencies, statuses, answers, time.perf_counter() - started


def rounded(rows: Any) -> Any:
    """Floats to 9 significant digits (DuckDB's parallel float sums differ in the last bits from run to run)."""
    if isinstance(rows, list):
        return [rounded(r) for r in rows]
    if isinstance(rows, dict):
        return {k: rounded(v) for k, v in rows.items()}
    return f"{rows:.9g}" if isinstance(rows, float) else rows


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def side(
    project_file: Path,
    queries: dict[str, dict[str, Any]],
    args: argparse.Namespace,
    cache: bool,
    fill: bool = True,
    package: Path | None = None,
    name: str = "",
) -> dict[str, Any]:
    port = free_port()
    server = start_server(project_file, port, cache, args.max_concurrent, package)
    base = f"http://127.0.0.1:{port}"
    try:
        if cache and fill:  # fill the cache: every query once
            with httpx2.Client(base_url=base, timeout=900) as http:
                for query in queries.values():
                    http.post("/api/query", json=query).raise_for_status()
        rounds = args.rounds if cache and fill else args.cold_rounds
        latencies, statuses, answers, wall = asyncio.run(replay(base, queries, args.clients, rounds, args.seed))
    finally:
        server.terminate()
        server.wait(30)
    return {
        "side": name or ("cache (default)" if cache else "--no-cache"),
        "cache": cache,
        "requests": len(latencies),
        "p50_ms": statistics.median(latencies),
        "p95_ms": percentile(latencies, 0.95),
        "max_ms": max(latencies),
        "requests_per_s": len(latencies) / wall,
        "statuses": dict(statuses),
        "answers": answers,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="10m", choices=sorted(SIZES))
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3, help="timed replays per client with the cache")
    parser.add_argument("--cold-rounds", type=int, default=1, help="timed replays per client with --no-cache")
    parser.add_argument("--max-concurrent", type=int, default=4, help="the server's --max-concurrent")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--against-rev", help="also a cold start under git revision REV's package")
    parser.add_argument("--cold-only", action="store_true", help="only the cold-start side(s)")
    parser.add_argument("--json", type=Path, help="write the figures as JSON")
    args = parser.parse_args(argv)
    path = ensure_data(args.size)
    queries = json.loads(json.dumps(gallery_queries(), default=str))  # YAML dates as ISO text, as a page sends them
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="segwise-serve-cache-") as tmp:
        project = project_for(f"duckdb:///{path.resolve()}", "partitioned")
        project_file = Path(tmp) / "segwise.yaml"
        project_file.write_text(yaml.safe_dump(project.model_dump(mode="json", exclude_defaults=True)))
        results = (
            []
            if args.cold_only
            else [side(project_file, queries, args, True), side(project_file, queries, args, False)]
        )
        results.append(side(project_file, queries, args, cache=True, fill=False, name="cold start"))
        if args.against_rev:
            (Path(tmp) / "old").mkdir()
            old = export_revision(args.against_rev, Path(tmp) / "old")
            name = f"cold start, {args.against_rev}"
            results.append(side(project_file, queries, args, cache=True, fill=False, package=old, name=name))
    same = sorted(
        {
            name
            for r in results[1:]
            for name in queries
            if rounded(results[0]["answers"][name]) != rounded(r["answers"][name])
        }
    )
    report = {
        "size": args.size,
        "clients": args.clients,
        "queries": len(queries),
        "load": [round(x, 2) for x in (*load_before, *os.getloadavg())],
        "against": args.against_rev,
        "different_answers": same,
        "sides": [{k: v for k, v in r.items() if k != "answers"} for r in results],
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    print("| server | requests | p50 ms | p95 ms | max ms | requests/s | X-Segwise-Cache |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in report["sides"]:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(r["statuses"].items()))
        name = r["side"]
        print(
            f"| {name} | {r['requests']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['max_ms']:.1f} | "
            f"{r['requests_per_s']:.0f} | {counts} |"
        )
    print(f"answers that differ between the sides: {same or 'none'}; load averages before/after: {report['load']}")


if __name__ == "__main__":
    main()
