"""Files as tables (``file:``) on the embedded DuckDB, checked against plain Python over the samples.

The real samples (tests/data/mitzu-samples, copied from ../shared/datasets with their checksums)
are read as CSV, re-encoded by the test with the standard library or pyarrow as gzipped CSV,
NDJSON, TSV and Hive-partitioned Parquet, and every expected answer is computed here from the
rows with ``csv``/``collections`` — never by segwise.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import re
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner

import segwise
from segwise.cli import main
from segwise.errors import SegwiseError

SAMPLES = Path(__file__).parent / "data" / "mitzu-samples"


def rows(name: str) -> list[dict[str, str]]:
    with open(SAMPLES / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def ts(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")


def answer(project: Path | dict, query: dict) -> list[dict]:
    with segwise.Project.parse(project) as p:
        return p.run(query).to_pylist()


def write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_samples_are_the_pinned_bytes() -> None:
    for line in (SAMPLES / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        assert hashlib.sha256((SAMPLES / name).read_bytes()).hexdigest() == digest, name


# -- formats -----------------------------------------------------------------------------------------


def test_csv_hourly_events_and_users_match_python(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "simple.csv").write_bytes((SAMPLES / "simple.csv").read_bytes())
    project = write(
        tmp_path / "segwise.yaml",
        {"event_tables": [{"table": "clicks", "file": "data/*.csv", "event_name": "event_type"}]},
    )
    query = {
        "series": [{"event": "cart", "measure": "events"}, {"event": "view", "measure": "unique_users"}],
        "date_range": {"from": "2020-01-01", "to": "2020-01-01T05:00:00"},
        "time_grain": "hour",
    }
    carts: Counter[int] = Counter()
    viewers: dict[int, set[str]] = defaultdict(set)
    for row in rows("simple.csv"):
        hour = ts(row["event_time"]).hour
        if row["event_type"] == "cart":
            carts[hour] += 1
        if row["event_type"] == "view":
            viewers[hour].add(row["user_id"])
    got = {(r["series"], r["bucket"].hour): r["value"] for r in answer(project, query)}
    expected = {("A", h): carts[h] for h in range(5)} | {("B", h): len(viewers[h]) for h in range(5)}
    assert got == expected


def test_gzipped_csv_monthly_unique_users(tmp_path: Path) -> None:
    with gzip.open(tmp_path / "subs.csv.gz", "wb") as handle:
        handle.write((SAMPLES / "subscriptions.csv").read_bytes())
    project = {"event_tables": [{"table": "subs", "file": str(tmp_path / "subs.csv.gz"), "event_name": "event_type"}]}
    query = {
        "series": [{"event": "renewed_subscription", "measure": "unique_users"}],
        "date_range": {"from": "2021-01-01", "to": "2021-07-01"},
        "time_grain": "month",
    }
    users: dict[int, set[str]] = defaultdict(set)
    for row in rows("subscriptions.csv"):
        if row["event_type"] == "renewed_subscription":
            users[ts(row["event_time"]).month].add(row["user_id"])
    got = {r["bucket"].month: r["value"] for r in answer(project, query)}
    assert got == {m: len(users[m]) for m in range(1, 7)}


def test_ndjson_and_tsv_with_declared_format(tmp_path: Path) -> None:
    basic = rows("basic_events.csv")
    (tmp_path / "basic.jsonl").write_text("".join(json.dumps(r) + "\n" for r in basic))
    (tmp_path / "basic.txt").write_text(
        "\n".join("\t".join(r.values()) for r in [dict(zip(basic[0], basic[0], strict=True)), *basic]) + "\n"
    )
    query = {
        "series": [{"event": "event_2", "measure": "events"}, {"event": "any", "measure": "unique_users"}],
        "date_range": {"from": "2021-01-01", "to": "2021-01-08"},
        "time_grain": "day",
    }
    events = Counter(ts(r["event_time"]).day for r in basic if r["event_type"] == "event_2")
    users: dict[int, set[str]] = defaultdict(set)
    for r in basic:
        users[ts(r["event_time"]).day].add(r["user_id"])
    expected = {("A", d): events[d] for d in range(1, 8)} | {("B", d): len(users[d]) for d in range(1, 8)}
    for table in ({"file": "basic.jsonl"}, {"file": "basic.txt", "format": "tsv"}):
        project = write(tmp_path / "p.yaml", {"event_tables": [{"table": "ev", **table, "event_name": "event_type"}]})
        got = {(r["series"], r["bucket"].day): r["value"] for r in answer(project, query)}
        assert got == expected, table


def test_user_table_from_a_file_breaks_down(tmp_path: Path) -> None:
    subs = rows("subscriptions.csv")
    ids = sorted({r["user_id"] for r in subs})
    plan = {uid: ("hex" if uid[0] in "abcdef" else "digit") for uid in ids}
    with open(tmp_path / "users.csv", "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["user_id", "plan"])
        out.writerows([uid, plan[uid]] for uid in ids)
    (tmp_path / "subs.csv").write_bytes((SAMPLES / "subscriptions.csv").read_bytes())
    project = write(
        tmp_path / "p.yaml",
        {
            "event_tables": [{"table": "subs", "file": "subs.csv", "event_name": "event_type"}],
            "user_tables": [{"table": "users", "file": "users.csv"}],
        },
    )
    query = {
        "series": [{"event": "new_subscription", "measure": "unique_users"}],
        "date_range": {"from": "2021-01-01", "to": "2021-07-01"},
        "time_grain": "total",
        "breakdown": ["plan"],
    }
    expected = Counter(plan[r["user_id"]] for r in subs if r["event_type"] == "new_subscription")
    assert {r["plan"]: r["value"] for r in answer(project, query)} == dict(expected)


# -- Hive-partitioned Parquet: pruned ----------------------------------------------------------------


@pytest.fixture(scope="module")
def hive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """subscriptions.csv as one Parquet file per day: events/event_date=YYYY-MM-DD/part-0.parquet."""
    root = tmp_path_factory.mktemp("hive")
    by_day: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows("subscriptions.csv"):
        by_day[row["event_time"][:10]].append(row)
    for day, items in by_day.items():
        folder = root / "events" / f"event_date={day}"
        folder.mkdir(parents=True)
        table = pa.table(
            {
                "user_id": [r["user_id"] for r in items],
                "event_time": pa.array([ts(r["event_time"]) for r in items], pa.timestamp("us")),
                "event_type": [r["event_type"] for r in items],
            }
        )
        pq.write_table(table, folder / "part-0.parquet")
    (root / "events" / "_SUCCESS").write_text("")
    write(
        root / "segwise.yaml",
        {
            "event_tables": [
                {
                    "table": "events",
                    "file": "events/**/*.parquet",
                    "hive_partitioning": True,
                    "event_name": "event_type",
                }
            ]
        },
    )
    return root


WEEK = {
    "series": [{"event": "renewed_subscription", "measure": "events"}],
    "date_range": {"from": "2021-03-01", "to": "2021-03-08"},
    "time_grain": "day",
}


def test_hive_parquet_answers_and_prunes_directories(hive: Path) -> None:
    expected = Counter(
        r["event_time"][:10]
        for r in rows("subscriptions.csv")
        if r["event_type"] == "renewed_subscription" and "2021-03-01" <= r["event_time"][:10] < "2021-03-08"
    )
    days = sorted(p.name for p in (hive / "events").iterdir() if p.is_dir())
    in_week = [d for d in days if "2021-03-01" <= d.removeprefix("event_date=") < "2021-03-08"]
    assert 0 < len(in_week) < len(days)
    with segwise.Project.load(hive / "segwise.yaml") as project:
        got = {r["bucket"].strftime("%Y-%m-%d"): r["value"] for r in project.run(WEEK).to_pylist()}
        assert {k: v for k, v in got.items() if v} == dict(expected)
        info = project.catalog().event_tables[0]
        assert info.spec.partition is not None and info.spec.partition.column == "event_date"
        assert "event_date" in info.columns and info.columns["event_date"].kind == "date"
        sql = project.compile(WEEK)
        assert "event_date" in sql and "read_parquet" not in sql and str(hive) not in sql
        plan = project.adapter().explain(sql, analyze=True)
    read = [int(n) for n in re.findall(r"Total Files Read:\s*(\d+)", plan)]
    assert read and sum(read) == len(in_week), plan


def test_hive_partition_declared_by_the_user_is_kept(hive: Path) -> None:
    data = yaml.safe_load((hive / "segwise.yaml").read_text())
    data["event_tables"][0]["partition"] = {"column": "event_date", "granularity": "month", "format": "date"}
    project = write(hive / "declared.yaml", data)
    with segwise.Project.load(project) as p:
        assert p.catalog().event_tables[0].spec.partition.granularity == "month"  # type: ignore[union-attr]


# -- only the declared files are readable ---------------------------------------------------------------


def test_sql_cannot_read_other_files_or_change_settings(tmp_path: Path) -> None:
    (tmp_path / "basic.csv").write_bytes((SAMPLES / "basic_events.csv").read_bytes())
    (tmp_path / "secret.csv").write_text("password\nhunter2\n")
    project = write(
        tmp_path / "p.yaml", {"event_tables": [{"table": "ev", "file": "basic.csv", "event_name": "event_type"}]}
    )
    with segwise.Project.load(project) as p:
        adapter = p.adapter()
        assert adapter.execute("SELECT count(*) AS n FROM ev").to_pylist() == [{"n": 11}]
        for sql in (
            f"SELECT * FROM read_csv('{tmp_path / 'secret.csv'}')",
            f"SELECT * FROM '{tmp_path / 'secret.csv'}'",
            "SELECT * FROM read_text('/etc/hostname')",
            "SET enable_external_access = true",
            f"SET allowed_paths = ['{tmp_path / 'secret.csv'}']",
        ):
            with pytest.raises(SegwiseError):
                adapter.execute(sql)


def test_queries_still_name_tables_not_files(tmp_path: Path) -> None:
    for table in ("basic.csv", "read_csv('basic.csv')", "data/*.parquet"):
        with pytest.raises(SegwiseError, match="looks like a file"):
            segwise.Project.parse({"event_tables": [{"table": table, "event_name": "event_type"}]})


# -- clear errors, exit 2 ----------------------------------------------------------------------------------


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("setup", "table", "message"),
    [
        (lambda d: None, {"file": "nothing/*.csv"}, "matches no file"),
        (lambda d: (d / "x.parquet").write_text("not parquet"), {"file": "x.parquet"}, "x.parquet"),
        (lambda d: (d / "x.dat").write_text("a,b\n"), {"file": "x.dat"}, "cannot tell the format"),
        (lambda d: (d / "x.csv").write_bytes(b"\x00\xff\x00"), {"file": "x.csv", "format": "parquet"}, "x.csv"),
    ],
)
def test_bad_files_are_project_errors_naming_the_path(tmp_path: Path, setup, table: dict, message: str) -> None:
    setup(tmp_path)
    (tmp_path / "q.yaml").write_text(yaml.safe_dump(WEEK))
    write(tmp_path / "p.yaml", {"event_tables": [{"table": "ev", **table, "event_name": "event_type"}]})
    code, output = run_cli("run", str(tmp_path / "q.yaml"), "-p", str(tmp_path / "p.yaml"))
    assert code == 2, output
    assert message in output and "Traceback" not in output
    assert "event_tables[0] (ev)" in output


def test_warehouse_may_be_omitted_only_when_every_table_is_a_file() -> None:
    with pytest.raises(SegwiseError, match=r"warehouse: required field is missing.*'users'"):
        segwise.Project.parse(
            {
                "event_tables": [{"table": "ev", "file": "x.csv", "event_name": "e"}],
                "user_tables": [{"table": "users"}],
            }
        )
    with pytest.raises(SegwiseError, match="only"):
        segwise.Project.parse(
            {"warehouse": "duckdb:///:memory:", "event_tables": [{"table": "ev", "format": "csv", "event_name": "e"}]}
        )


def test_file_tables_on_an_engine_that_cannot_read_files(tmp_path: Path) -> None:
    (tmp_path / "basic.csv").write_bytes((SAMPLES / "basic_events.csv").read_bytes())
    project = write(
        tmp_path / "p.yaml",
        {
            "warehouse": "sqlite:///x.db",
            "event_tables": [{"table": "ev", "file": "basic.csv", "event_name": "event_type"}],
        },
    )
    (tmp_path / "x.db").write_bytes(b"")
    code, output = run_cli("catalog", "-p", str(project))
    assert code == 2 and "sqlite cannot read `file:` tables (ev)" in output, output


def test_duckdb_url_with_two_slashes_is_a_config_error(tmp_path: Path) -> None:
    project = write(
        tmp_path / "p.yaml", {"warehouse": "duckdb://x.duckdb", "event_tables": [{"table": "e", "event_name": "n"}]}
    )
    code, output = run_cli("catalog", "-p", str(project))
    assert code == 2 and "write duckdb:///x.duckdb" in output, output
