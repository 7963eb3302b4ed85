"""The shared suite on a real Spark standalone cluster (``spark://127.0.0.1:PORT``).

Spark allows one SparkContext per process, and this test process's Spark (if any) is local mode,
so the suite runs against the cluster in a child pytest process whose one SparkSession is on the
cluster (``SEGWISE_SPARK_MASTER``, read by ``tests/backends.py``): the Spark cases of the shared
segmentation suite, lifecycle and stickiness (each against its oracle), Spark's timeout and
Ctrl-C cancel (the status tracker), and ``file:`` tables with partition pruning. The child's
own first test checks that its SparkContext really is the cluster with an executor on the worker.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.spark_cluster import spark_cluster  # noqa: F401  (the fixture)

ROOT = Path(__file__).resolve().parent.parent
GENERATED_EVERY = 4  # a lean subset: every fourth case of the segmentation suite's generated cases


def cluster_suite() -> list[str]:
    """The cases run on the cluster (pytest ids; ``-k spark`` keeps their Spark runs), each checked
    against its oracle as on local[2]: every fourth generated segmentation case, the other
    segmentation tests, lifecycle, stickiness, Spark's cancel and ``file:`` tables."""
    from tests import test_segmentation as segmentation

    generated = [f"tests/test_segmentation.py::test_generated[spark-{case}]" for case in segmentation.GENERATED]
    others = sorted(name for name in vars(segmentation) if name.startswith("test_") and name != "test_generated")
    return [
        "tests/test_spark_cluster.py::test_this_process_runs_on_the_cluster",
        *generated[::GENERATED_EVERY],
        *(f"tests/test_segmentation.py::{name}" for name in others),
        "tests/test_lifecycle.py",
        "tests/test_stickiness.py",
        "tests/test_spark_cancel.py",
        "tests/test_files_spark.py",
    ]


MIN_PASSED = 70  # the cluster run must have run (not skipped) at least this many cases


def test_this_process_runs_on_the_cluster() -> None:
    """(Runs in the child.) The SparkContext is the cluster's, with an executor on the worker."""
    master = os.environ.get("SEGWISE_SPARK_MASTER", "")
    if not master.startswith("spark://"):
        pytest.skip("runs inside the cluster run of test_shared_suite_on_the_cluster")
    from tests.backends import spark_session

    spark: Any = spark_session()
    assert spark.sparkContext.master == master
    deadline = time.monotonic() + 60
    while spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size() < 2:  # the driver and an executor
        assert time.monotonic() < deadline, "no executor registered with the driver"
        time.sleep(0.5)
    assert spark.range(1000).selectExpr("sum(id) AS s").collect()[0]["s"] == 499500


def test_shared_suite_on_the_cluster(spark_cluster: str, tmp_path: Path) -> None:  # noqa: F811
    env = {**os.environ, "SEGWISE_SPARK_MASTER": spark_cluster, "SEGWISE_REQUIRE_SPARK": "1"}
    command = [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", "-k", "spark"]
    command += ["--durations=8", "--basetemp", str(tmp_path / "child"), *cluster_suite()]
    started = time.monotonic()
    child = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500)
    elapsed = time.monotonic() - started
    tail = "\n".join(child.stdout.splitlines()[-40:]) + child.stderr[-2000:]
    assert child.returncode == 0, f"the suite failed on {spark_cluster} ({elapsed:.0f} s):\n{tail}"
    summary = child.stdout.strip().splitlines()[-1]
    passed = int(re.search(r"(\d+) passed", summary).group(1))  # type: ignore[union-attr]
    assert passed >= MIN_PASSED, f"only {passed} cases ran on the cluster: {summary}"
    assert "failed" not in summary and "error" not in summary, summary
    slowest = child.stdout.partition("slowest 8 durations")[2].split("\n\n")[0]
    print(f"cluster run: {summary} ({elapsed:.0f} s); slowest:{slowest}")
