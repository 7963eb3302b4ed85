"""50 concurrent clients against the live server: every answer correct (the oracle's), none
refused, and never more warehouse queries at once than the server's bound.

The figures (throughput, latency percentiles) are printed; docs/reliability.md quotes a run.
``SEGWISE_LOAD_REPORT=path.json`` also writes them to a file.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.explorer_support import expected_rows, gallery_queries, live_server, make_demo, same_rows

CLIENTS = 50
REQUESTS_PER_CLIENT = 6
MAX_CONCURRENT = 4
QUESTIONS = [
    "daily_active_users",
    "signups_per_country",
    "revenue_by_visitors",
    "weekly_active_users",
    "traffic_per_campaign",
    "user_distribution",
]


def test_fifty_concurrent_clients_get_correct_answers(tmp_path: Path) -> None:
    queries = {name: query for name, _, query in gallery_queries() if name in QUESTIONS}
    assert set(queries) == set(QUESTIONS)
    want = {name: expected_rows(query) for name, query in queries.items()}
    with live_server(make_demo(tmp_path), max_concurrent_queries=MAX_CONCURRENT) as server:
        start = threading.Barrier(CLIENTS)
        latencies: list[float] = []
        failures: list[str] = []
        lock = threading.Lock()

        def client(number: int) -> None:
            with httpx2.Client(base_url=server.url, timeout=60) as http:
                start.wait()
                for i in range(REQUESTS_PER_CLIENT):
                    name = QUESTIONS[(number + i) % len(QUESTIONS)]
                    began = time.perf_counter()
                    response = http.post("/api/query", json=queries[name])
                    elapsed = time.perf_counter() - began
                    ok = response.status_code == 200 and same_rows(response.json(), want[name])
                    with lock:
                        latencies.append(elapsed)
                        if not ok:
                            failures.append(f"client {number} {name}: {response.status_code} {response.text[:200]}")

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        began = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        wall = time.perf_counter() - began
        assert not any(t.is_alive() for t in threads)
        assert failures == []
        assert len(latencies) == CLIENTS * REQUESTS_PER_CLIENT
        assert server.runner.peak_running <= MAX_CONCURRENT
    ordered = sorted(latencies)
    report: dict[str, Any] = {
        "clients": CLIENTS,
        "requests": len(latencies),
        "max_concurrent_queries": MAX_CONCURRENT,
        "peak_running": server.runner.peak_running,
        "wall_s": round(wall, 2),
        "throughput_rps": round(len(latencies) / wall, 1),
        "p50_ms": round(statistics.median(ordered) * 1000),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000),
        "max_ms": round(ordered[-1] * 1000),
    }
    print("load:", json.dumps(report))
    target = os.environ.get("SEGWISE_LOAD_REPORT")
    if target:
        Path(target).write_text(json.dumps(report, indent=2) + "\n")


@pytest.mark.parametrize("clients", [CLIENTS])
def test_fifty_clients_over_the_limit_are_refused_cleanly(tmp_path: Path, clients: int) -> None:
    """With a small queue, the clients beyond it get 503 + Retry-After, never an error page or a hang."""
    query = next(q for name, _, q in gallery_queries() if name == "daily_active_users")
    with live_server(make_demo(tmp_path), max_concurrent_queries=1, max_waiting=4) as server:
        codes: list[int] = []
        bodies: list[dict[str, Any]] = []
        start = threading.Barrier(clients)
        lock = threading.Lock()

        def client() -> None:
            start.wait()
            response = httpx2.post(f"{server.url}/api/query", json=query, timeout=60)
            with lock:
                codes.append(response.status_code)
                bodies.append(response.json())

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert set(codes) <= {200, 503} and codes.count(200) >= 5
        assert all(
            "error" in b and b["error"]["kind"] == "busy" for b, c in zip(bodies, codes, strict=True) if c == 503
        )
