"""``segwise demo``: generate the demo product's events into DuckDB and answer the gallery.

The gallery is ``examples/*.yaml``: one query per question of the product page. Each answer is
printed compactly (the first rows, totals per breakdown value) with its run time.
"""

from __future__ import annotations

import shutil
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import yaml
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from segwise.errors import SegwiseError, SpecError

DEFAULT_USERS = 20_000
DEFAULT_DAYS = 180
DEFAULT_START = date(2025, 1, 1)


def examples_dir() -> Path:
    """The example gallery: ``examples/`` of a checkout, else ``segwise/examples`` of an installed wheel."""
    checkout = Path(__file__).resolve().parents[2] / "examples"
    packaged = Path(__file__).resolve().parents[1] / "examples"
    for here in (checkout, packaged):
        if (here / "segwise.yaml").exists():
            return here
    raise SpecError(
        f"the example gallery was not found ({checkout} or {packaged}); reinstall segwise (pip install segwise)"
    )


def gallery(directory: Path | None = None) -> list[tuple[str, Path]]:
    """(question, query file) for every example, in file-name order."""
    folder = directory or examples_dir()
    items = []
    for path in sorted(folder.glob("*.yaml")):
        if path.name == "segwise.yaml":
            continue
        first = path.read_text(encoding="utf-8").splitlines()[0]
        question = first.lstrip("# ").strip() if first.startswith("#") else path.stem.replace("_", " ")
        items.append((question, path))
    return items


# Analyses whose examples live in a subfolder of the gallery (examples/retention/, the funnels of
# examples/advanced/): the explorer's example menu lists them after the gallery.
MENU_ANALYSES = ("funnel", "retention")


def analysis_examples(directory: Path | None = None) -> list[tuple[str, Path]]:
    """(question, query file) for every example one folder down whose query is a funnel or a
    retention (``MENU_ANALYSES``), by folder and file name."""
    folder = directory or examples_dir()
    items = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        for question, path in gallery(sub):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and any(key in data for key in MENU_ANALYSES):
                items.append((question, path))
    return items


def prepare(
    directory: Path, users: int | None = None, days: int | None = None, regenerate: bool = False
) -> tuple[Path, datetime]:
    """Generate the database (with a progress bar) unless it exists; return (project file, now)."""
    from .generate import write_duckdb

    directory.mkdir(parents=True, exist_ok=True)
    database = directory / "demo.duckdb"
    marker = directory / "demo.params"
    params = f"{users or DEFAULT_USERS} {days or DEFAULT_DAYS} {DEFAULT_START.isoformat()}"
    stale = not marker.exists() or marker.read_text().strip() != params
    console = Console(stderr=True)
    if regenerate or stale or not database.exists():
        with Progress(
            TextColumn("generating demo events"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as progress:
            task = progress.add_task("generate", total=100)

            def report(done: int, total: int) -> None:
                progress.update(task, completed=100 * done / max(total, 1))

            info = write_duckdb(
                database, users=users or DEFAULT_USERS, days=days or DEFAULT_DAYS, start=DEFAULT_START, progress=report
            )
            progress.update(task, completed=100)
        marker.write_text(params)
        console.print(f"wrote {info.events:,} events of {info.users:,} users to {database}")
    shutil.copyfile(examples_dir() / "segwise.yaml", directory / "segwise.yaml")
    end = DEFAULT_START.toordinal() + (days or DEFAULT_DAYS)
    now = datetime.combine(date.fromordinal(end), datetime.min.time())
    return directory / "segwise.yaml", now


def run_demo(directory: Path, users: int | None = None, days: int | None = None, regenerate: bool = False) -> None:
    import segwise

    project_file, now = prepare(directory, users, days, regenerate)
    console = Console(width=80)  # the answers fit a default terminal
    console.print(f"[bold]segwise demo[/bold]: {project_file} (now = {now:%Y-%m-%d})\n")
    failures = 0
    started = time.perf_counter()
    with segwise.Project.load(project_file) as project:
        for question, path in gallery():
            t0 = time.perf_counter()
            try:
                table = segwise.run(path, project, now=now)
            except SegwiseError as exc:
                failures += 1
                console.print(f"[bold]{question}[/bold]  [red]failed[/red]: {exc}\n")
                continue
            elapsed = (time.perf_counter() - t0) * 1000
            console.print(f"[bold]{question}[/bold]\n[dim]{path.name}, {table.num_rows} rows, {elapsed:.0f} ms[/dim]")
            console.print(summary(table))
    total = time.perf_counter() - started
    console.print(f"answered {len(gallery()) - failures} of {len(gallery())} questions in {total:.1f} s")
    if failures:
        raise SegwiseError(f"{failures} gallery question(s) failed")


def summary(table: pa.Table, max_rows: int = 6) -> Table:
    """A compact view: per breakdown value and row label, its value (one bucket) or latest buckets.

    Every answer has a time column (``bucket``; a retention's ``cohort``), breakdown columns, a row
    label and a value: a segmentation's series and value, a lifecycle's status, a stickiness'
    days, a funnel's step label and count (conversion in the label), a retention's period and its
    summary row (cohort null: "rate (count of size)"). A segmentation's rows are ordered by their
    sum over the buckets (largest first), only to pick what to show; other analyses keep the
    answer's order (statuses in order, days, steps and periods ascending).
    """
    if "cohort" in table.column_names and "rate" in table.column_names:
        return _retention_summary(table, max_rows)
    time_column, label, value = "bucket", table.column_names[-2], table.column_names[-1]
    rows = table.to_pylist()
    if "step_label" in table.column_names:
        label, value = "step", "count"
        for row in rows:
            rate = "" if row["conversion"] is None else f" {row['conversion']:.0%}"
            row["step"] = f"{row['step']}. {row['step_label']}{rate}"
    own = {"bucket", label, value, "step_label", "conversion", "from_previous", "median_seconds", "avg_seconds"}
    group_columns = [c for c in table.column_names if c not in own]
    grid = Table(show_header=True, header_style="dim", box=None, padding=(0, 2))
    single_bucket = len({row[time_column] for row in rows}) <= 1
    for name in [*group_columns, label]:
        grid.add_column(name)
    grid.add_column("value" if single_bucket else "latest buckets", justify="right" if single_bucket else "left")
    keys: dict[tuple[Any, ...], list[tuple[datetime, Any]]] = {}
    for row in rows:
        key = (*tuple(row[c] for c in group_columns), row[label])
        keys.setdefault(key, []).append((row[time_column], row[value]))
    ranked = list(keys.items())
    if label == "series":
        ranked.sort(key=lambda item: -_total(item[1]))
    shown = 2 if group_columns else 3  # buckets per row: the summary fits 80 columns
    for key, cells in ranked[:max_rows]:
        labels = ["∅" if k is None else str(k) for k in key]
        if single_bucket:
            grid.add_row(*labels, _fmt(cells[0][1]))
        else:
            monthly = all(b.day == 1 for b, _ in cells)
            stamp = "%Y-%m" if monthly else "%b %d"
            latest = ", ".join(f"{b:{stamp}}: {_fmt(v)}" for b, v in cells[-shown:])
            grid.add_row(*labels, latest)
    _more(grid, len(ranked), max_rows, len(group_columns) + 1)
    return grid


def _retention_summary(table: pa.Table, max_rows: int) -> Table:
    """A retention's summary rows (cohort null): per group and period, the rate of the summed
    counts with the counts."""
    groups = [c for c in table.column_names if c not in ("cohort", "period", "count", "cohort_size", "rate")]
    grid = Table(show_header=True, header_style="dim", box=None, padding=(0, 2))
    for name in [*groups, "period"]:
        grid.add_column(name)
    grid.add_column("retained (all cohorts)", justify="right")
    rows = [row for row in table.to_pylist() if row["cohort"] is None]
    for row in rows[:max_rows]:
        rate = "-" if row["rate"] is None else f"{row['rate']:.1%}"
        labels = ["∅" if row[g] is None else str(row[g]) for g in groups]
        grid.add_row(*labels, str(row["period"]), f"{rate} ({_fmt(row['count'])} of {_fmt(row['cohort_size'])})")
    _more(grid, len(rows), max_rows, len(groups) + 1)
    return grid


def _more(grid: Table, count: int, max_rows: int, labels: int) -> None:
    if count > max_rows:
        grid.add_row(*(["…"] * labels), f"{count - max_rows} more")


def _total(cells: list[tuple[datetime, Any]]) -> float:
    values = pa.array([v for _, v in cells], type=pa.float64())
    total = pc.sum(values).as_py()
    return float(total or 0)


def _fmt(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"
