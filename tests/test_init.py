"""``segwise init``: guesses on the real samples (their documented columns), a project file that runs
as written (answers checked against Python over the CSV), never overwriting without ``--force``."""

from __future__ import annotations

import csv
import gzip
import json
from collections import Counter
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner

import segwise
from segwise.cli import main
from tests.test_files import SAMPLES, rows, ts


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def written(path: Path) -> dict:
    return yaml.safe_load(path.read_text())["event_tables"][0]


def test_init_on_a_csv_guesses_and_writes_a_project_that_runs(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "simple.csv").write_bytes((SAMPLES / "simple.csv").read_bytes())
    out = tmp_path / "segwise.yaml"
    code, stdout, stderr = invoke("init", str(tmp_path / "data" / "simple.csv"), "-o", str(out))
    assert code == 0, stderr
    table = written(out)
    assert (table["file"], table["user_id"], table["event_time"], table["event_name"]) == (
        "data/simple.csv",
        "user_id",
        "event_time",
        "event_type",
    )
    assert "# guessed" in out.read_text() and "warehouse" not in yaml.safe_load(out.read_text())
    counts = Counter(r["event_type"] for r in rows("simple.csv"))
    assert "2,999 events from 2020-01-01 00:00:00 to 2020-01-01 04:31:23 UTC" in stdout
    assert f"purchase ({counts['purchase']:,})" in stdout
    query = {
        "series": [{"event": "purchase", "measure": "unique_users"}],
        "date_range": {"from": "2020-01-01", "to": "2020-01-02"},
        "time_grain": "total",
    }
    buyers = {r["user_id"] for r in rows("simple.csv") if r["event_type"] == "purchase"}
    with segwise.Project.load(out) as project:
        assert project.run(query).column("value").to_pylist() == [len(buyers)]
    # never overwrite without --force
    before = out.read_text()
    code, _, stderr = invoke("init", str(tmp_path / "data" / "simple.csv"), "-o", str(out))
    assert code == 2 and "--force" in stderr and out.read_text() == before
    code, _, _ = invoke("init", str(tmp_path / "data" / "simple.csv"), "-o", str(out), "--force", "--table", "shop")
    assert code == 0 and written(out)["table"] == "shop"


def test_init_on_gzip_ndjson_and_parquet_with_other_column_names(tmp_path: Path) -> None:
    subs = rows("subscriptions.csv")
    with gzip.open(tmp_path / "subs.csv.gz", "wt", newline="") as handle:
        handle.write((SAMPLES / "subscriptions.csv").read_text())
    renamed = [{"ts": r["event_time"], "customer": r["user_id"], "action": r["event_type"]} for r in subs]
    (tmp_path / "subs.ndjson").write_text("".join(json.dumps(r) + "\n" for r in renamed))
    pq.write_table(
        pa.table(
            {
                "happened": pa.array([ts(r["event_time"]) for r in subs], pa.timestamp("us")),
                "who": [r["user_id"] for r in subs],
                "kind": [r["event_type"] for r in subs],
            }
        ),
        tmp_path / "subs.parquet",
    )
    expected = {
        "subs.csv.gz": ("user_id", "event_time", "event_type"),
        "subs.ndjson": ("customer", "ts", "action"),
        "subs.parquet": ("who", "happened", "kind"),  # by content: the only time, most distinct, fewest distinct
    }
    renewals = Counter(ts(r["event_time"]).month for r in subs if r["event_type"] == "renewed_subscription")
    query = {
        "series": [{"event": "renewed_subscription", "measure": "events"}],
        "date_range": {"from": "2021-01-01", "to": "2021-07-01"},
        "time_grain": "month",
    }
    for name, (user, time, event) in expected.items():
        out = tmp_path / f"{name}.yaml"
        code, _, stderr = invoke("init", str(tmp_path / name), "-o", str(out))
        assert code == 0, stderr
        table = written(out)
        assert (table["user_id"], table["event_time"], table["event_name"]) == (user, time, event), name
        with segwise.Project.load(out) as project:
            got = {r["bucket"].month: r["value"] for r in project.run(query).to_pylist()}
        assert got == {m: renewals[m] for m in range(1, 7)}, name


def test_init_on_a_duckdb_database_with_table(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute(f"CREATE TABLE basic AS SELECT * FROM read_csv('{SAMPLES / 'basic_events.csv'}')")
    con.close()
    out = tmp_path / "segwise.yaml"
    code, stdout, stderr = invoke("init", "duckdb:///w.duckdb", "--table", "basic", "-o", str(out))
    assert code == 0, stderr
    data = yaml.safe_load(out.read_text())
    assert data["warehouse"] == "duckdb:///w.duckdb"
    assert data["event_tables"][0] == {
        "table": "basic",
        "user_id": "user_id",
        "event_time": "event_time",
        "event_name": "event_type",
    }
    with open(SAMPLES / "basic_events.csv", newline="") as handle:
        assert f"11 events from {min(r['event_time'] for r in csv.DictReader(handle))[:10]}" in stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [("a,b\n1,2\n", "no timestamp column"), ("when,x\n2021-01-01 00:00:00,1\n", "no user id column")],
)
def test_init_explains_what_it_cannot_guess(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "x.csv").write_text(content)
    code, _, stderr = invoke("init", str(tmp_path / "x.csv"), "-o", str(tmp_path / "p.yaml"))
    assert code == 2 and message in stderr and "Traceback" not in stderr
    assert not (tmp_path / "p.yaml").exists()
    code, _, stderr = invoke("init", str(tmp_path / "nothing.csv"), "-o", str(tmp_path / "p.yaml"))
    assert code == 2 and "matches no file" in stderr
