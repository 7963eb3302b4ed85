"""A relative range's funnel and first-time retention a moment later (``segwise.moving``): the
proven hit (its probe statement) against sending the statement again, interleaved, on the
planner benchmark's 10M-event DuckDB file (read-only). Writes benchmarks/results/moving-funnel.json.

    ln -sfn /work/benchdata benchmarks/data && python -m benchmarks.moving_funnel
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path
from statistics import median
from typing import Any

import segwise
from segwise.cache import Lookup
from segwise.execute import answer

ROOT = Path(__file__).resolve().parent
DATA = ROOT / "data" / "planner-10m-unpartitioned.duckdb"
NOW = datetime(2026, 1, 2, 4)  # after the data: no rows between the two "now"s; the start moves 2 s at 4 am
# Minutes after NOW at which no event lies within 2 s of the range's start (else the proof rightly
# finds a row: a miss; 10M events a year are ~0.3 a second).
MINUTES = {"funnel": (0, 1, 3), "first_time_retention": (4, 5, 6)}
QUERIES: dict[str, dict[str, Any]] = {
    "funnel": {
        "funnel": {"steps": [{"event": "signup"}, {"event": "login"}, {"event": "payment"}], "window": "7d"},
        "date_range": {"last": "30d"},
        "time_grain": "total",
    },
    "first_time_retention": {
        "retention": {"start": {"event": "signup"}, "return": {"event": "login"}, "periods": 4},
        "date_range": {"last": "8w"},
        "time_grain": "week",
    },
}


def timed(project: segwise.Project, query: dict[str, Any], now: datetime) -> tuple[float, str]:
    lookup = Lookup()
    started = time.perf_counter()
    answer(query, project, now=now.isoformat(), cache=True, lookup=lookup)
    return time.perf_counter() - started, lookup.status


def main() -> None:
    project = segwise.Project(
        warehouse=f"duckdb:///{DATA}", event_tables=[{"table": "events", "event_name": "event_name"}]
    )
    out: dict[str, Any] = {"date": datetime.now().isoformat(timespec="seconds"), "load": os.getloadavg()}
    out["commit"] = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    try:
        for name, query in QUERIES.items():
            sent, proven = [], []
            for k in MINUTES[name]:
                project.result_cache().clear()
                seconds, status = timed(project, query, NOW + timedelta(minutes=k))  # sent (a miss)
                assert status == "miss", status
                sent.append(seconds)
                seconds, status = timed(project, query, NOW + timedelta(minutes=k, seconds=2))  # proven
                assert status == "hit", status
                proven.append(seconds)
            out[name] = {"sent_s": sent, "proven_hit_s": proven, "ratio": median(sent) / median(proven)}
            print(name, f"sent {median(sent) * 1000:.0f} ms, proven hit {median(proven) * 1000:.0f} ms")
    finally:
        project.close()
    (ROOT / "results" / "moving-funnel.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
