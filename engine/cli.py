"""The ``segwise`` command line: run, sql, explain, catalog, plugins, demo.

Every failure the user can cause exits non-zero with a one-paragraph message naming what and
where; tracebacks are only shown with ``--debug``.
"""

from __future__ import annotations

import functools
import io
import json
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click
import pyarrow as pa

from .errors import SegwiseError, SpecError
from .output import pretty_sql, to_records

F = TypeVar("F", bound=Callable[..., Any])

EXIT_USER_ERROR = 2
EXIT_WAREHOUSE_ERROR = 3
EXIT_INTERNAL_ERROR = 70


def _fail(message: str, code: int) -> None:
    click.echo(click.style("error: ", fg="red", bold=True) + message, err=True)
    sys.exit(code)


def handle_errors(func: F) -> F:
    """Turn segwise errors into clean messages and exit codes."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = click.get_current_context().find_root().params.get("debug", False)
        try:
            return func(*args, **kwargs)
        except SegwiseError as exc:
            if debug:
                raise
            from .errors import WarehouseError

            _fail(str(exc), EXIT_WAREHOUSE_ERROR if isinstance(exc, WarehouseError) else EXIT_USER_ERROR)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except Exception as exc:
            if debug:
                raise
            _fail(
                f"internal error ({type(exc).__name__}: {exc}). This is a bug in segwise; "
                "run again with --debug for the traceback and report it.",
                EXIT_INTERNAL_ERROR,
            )

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(package_name="segwise")
def main(debug: bool) -> None:
    """segwise: warehouse-native user segmentation.

    Questions are YAML/JSON query files answered on the warehouse named in a project file
    (segwise.yaml). See docs/queries.md.
    """


project_option = click.option(
    "--project",
    "-p",
    "project_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default="segwise.yaml",
    show_default=True,
    help="Project file naming the warehouse and tables.",
)
now_option = click.option("--now", help="What 'now' is for relative date ranges (ISO 8601).")
no_cache_option = click.option(
    "--no-cache", is_flag=True, help="Do not use the result cache, whatever the project's `cache:` says."
)


def _load(project_path: Path) -> Any:
    from .session import Project

    if not project_path.exists():
        raise SpecError(
            "project file not found (pass --project PATH, or run where a segwise.yaml is)", where=str(project_path)
        )
    return Project.load(project_path)


# -- run -------------------------------------------------------------------------------------------


@main.command()
@click.argument("query_path", metavar="QUERY", type=click.Path(dir_okay=False, path_type=Path))
@project_option
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["table", "json", "csv", "parquet"]),
    default="table",
    show_default=True,
)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write here, not stdout.")
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also draw the chart: out.html (standalone, offline) or out.png (rendered by headless Chromium).",
)
@now_option
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="SECONDS",
    help="Cancel a warehouse statement that runs longer than this (exit status 3).",
)
@no_cache_option
@handle_errors
def run(
    query_path: Path,
    project_path: Path,
    fmt: str,
    output: Path | None,
    plot: Path | None,
    now: str | None,
    timeout: float | None,
    no_cache: bool,
) -> None:
    """Answer QUERY on the project's warehouse."""
    from .query import Query
    from .session import run as run_query

    query = Query.load(query_path)
    project = _load(project_path)
    with project:
        table = run_query(query, project, now=now, timeout=timeout, cache=False if no_cache else None)
        from .span import query_warnings

        for warning in query_warnings(project, query, now=now):
            click.echo(click.style("warning: ", fg="yellow", bold=True) + warning, err=True)
    if plot is not None:
        from .plot import write_plot

        write_plot(table, plot, title=_question(query_path))
    write_table(table, fmt, output, title=str(query_path))


def _question(query_path: Path) -> str:
    """A chart title: the query file's first comment line, else its name."""
    first = query_path.read_text(encoding="utf-8").splitlines()[:1]
    if first and first[0].startswith("#"):
        return first[0].lstrip("# ").strip()
    return query_path.stem.replace("_", " ")


def write_table(table: pa.Table, fmt: str, output: Path | None, title: str = "") -> None:
    if fmt == "parquet":
        if output is None:
            raise SpecError("--format parquet writes binary; give --output FILE.parquet")
        import pyarrow.parquet as pq

        pq.write_table(table, output)
        return
    if fmt == "table":
        text = render_table(table, title=title)
    elif fmt == "json":
        text = json.dumps(to_records(table), ensure_ascii=False, indent=None) + "\n"
    else:
        import pyarrow.csv as pacsv

        buffer = io.BytesIO()
        pacsv.write_csv(table, buffer)
        text = buffer.getvalue().decode("utf-8")
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


def render_table(table: pa.Table, title: str = "", max_rows: int = 500) -> str:
    from rich.console import Console
    from rich.table import Table

    grid = Table(title=title or None, show_lines=False, header_style="bold")
    for name in table.column_names:
        grid.add_column(name, justify="right" if name == "value" else "left")
    rows = table.slice(0, max_rows).to_pylist()
    for row in rows:
        grid.add_row(*[_cell(name, row[name]) for name in table.column_names])
    buffer = io.StringIO()
    Console(file=buffer, width=160, force_terminal=False, color_system=None).print(grid)
    if table.num_rows > max_rows:
        buffer.write(f"... {table.num_rows - max_rows} more rows (use --format csv or json for all)\n")
    return buffer.getvalue()


def _cell(name: str, value: Any) -> str:
    if value is None:
        return "∅" if name != "value" else "null"
    if isinstance(value, datetime):
        if value.hour == value.minute == value.second == 0:
            return value.strftime("%Y-%m-%d")
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


# -- sql / explain ---------------------------------------------------------------------------------


@main.command()
@click.argument("query_path", metavar="QUERY", type=click.Path(dir_okay=False, path_type=Path))
@project_option
@click.option("--dialect", "-d", help="Render for this dialect (default: the warehouse's).")
@now_option
@handle_errors
def sql(query_path: Path, project_path: Path, dialect: str | None, now: str | None) -> None:
    """Print SQL for QUERY that gives what `segwise run` prints (columns, order, filled buckets)."""
    from .pipeline import compile_query
    from .present import paste_statement
    from .query import Query
    from .registry import get_flavor

    query = Query.load(query_path)
    with _load(project_path) as project:
        compiled = compile_query(project, query, dialect=dialect, now=now)
    click.echo(pretty_sql(paste_statement(compiled, get_flavor(compiled.dialect)), compiled.dialect))


@main.command()
@click.argument("query_path", metavar="QUERY", type=click.Path(dir_okay=False, path_type=Path))
@project_option
@now_option
@click.option("--analyze", is_flag=True, help="Also run the statement with the warehouse's EXPLAIN ANALYZE.")
@no_cache_option
@handle_errors
def explain(query_path: Path, project_path: Path, now: str | None, analyze: bool, no_cache: bool) -> None:
    """Show the resolved query, the estimated cost, the SQL (and the warehouse's own plan)."""
    from .explain import Explanation
    from .pipeline import compile_query
    from .query import Query

    query = Query.load(query_path)
    with _load(project_path) as project:
        compiled = compile_query(project, query, now=now)
        lines = Explanation.of(project, compiled).to_text()
        if analyze:
            from .dispatch import cache_state, configured_tables
            from .guard import check_statement

            lines += [
                "",
                "-- result cache: " + describe_cache(cache_state(project, compiled, False if no_cache else None)),
            ]
            lines += ["", f"-- {compiled.dialect}'s own plan (EXPLAIN ANALYZE: the statement was run)", ""]
            adapter = project.adapter()
            # EXPLAIN ANALYZE runs the statement: it passes the same guard as `segwise run`.
            check_statement(compiled.sql, adapter.flavor.dialect, compiled.expression, configured_tables(project))
            lines.append(adapter.explain(compiled.sql, analyze=True))
    click.echo("\n".join(lines))


def describe_cache(state: dict[str, Any]) -> str:
    """One line on the result cache (``explain --analyze``): what it would do now, its counts."""
    status = state["status"]
    if status == "off":
        return "off (the project file has no `cache:` or says false, or --no-cache)"
    what = {
        "hit": "this statement would be answered from the cache",
        "miss": "this statement is not in the cache (it would be sent and its answer kept)",
        "uncacheable": "not kept: the warehouse has no data version and `cache:` sets no ttl",
    }[status]
    ttl = f", ttl {state['ttl']:g} s" if state["ttl"] is not None else ""
    return (
        f"{what}; {state['hits']} hits, {state['misses']} misses, {state['entries']} entries, "
        f"{state['bytes']:,} of {state['max_bytes']:,} bytes{ttl}"
    )


# -- rollups ---------------------------------------------------------------------------------------------


@main.group()
def rollup() -> None:
    """Pre-aggregated tables the planner answers from when exact (docs/rollups.md)."""


@rollup.command("build")
@click.argument("name")
@project_option
@click.option("--full", is_flag=True, help="Rebuild from the first event (drops and recreates the table).")
@click.option("--since", help="Recompute from this date (late events); default: where the last build stopped.")
@now_option
@handle_errors
def rollup_build(name: str, project_path: Path, full: bool, since: str | None, now: str | None) -> None:
    """Create or refresh rollup NAME, incrementally by month of buckets.

    The one command that writes: only the rollup's table and segwise_rollup_state beside it.
    """
    from rich.progress import Progress

    from .rollup_build import build

    with _load(project_path) as project, Progress(transient=True) as bar:
        task = bar.add_task(f"rollup {name}", total=None)

        def step(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=total, description=f"rollup {name}: {what}")

        report = build(project, name, full=full, since=since, now=now, progress=step)
    click.echo(report.summary())


@rollup.command("list")
@project_option
@handle_errors
def rollup_list(project_path: Path) -> None:
    """The project's rollups: definition and what the last build covered."""
    from .rollups import rollups

    with _load(project_path) as project:
        infos = rollups(project, project.catalog())
        if not infos:
            click.echo("no rollups are declared in this project (see docs/rollups.md)")
        for info in infos:
            spec = info.spec
            dims = ", ".join(spec.dimensions) or "none"
            users = ", user ids" if spec.users else ""
            click.echo(f"{spec.name}  ({spec.table}) {spec.grain} by {dims}{users}; {', '.join(spec.measures)}")
            if info.state is not None:
                click.echo(
                    f"  covers {info.state.covered_from:%Y-%m-%d %H:%M} to {info.state.covered_to:%Y-%m-%d %H:%M}, "
                    f"{info.state.rows or 0:,} rows, built {info.state.built_at}"
                )
            if info.problem is not None:
                click.echo(f"  not usable: {info.problem}")


# -- calibration -------------------------------------------------------------------------------------


@main.command()
@project_option
@click.option("--repeat", type=click.IntRange(1, 20), default=3, show_default=True, help="Timed runs per probe.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write (default: beside the project).",
)
@handle_errors
def calibrate(project_path: Path, repeat: int, output: Path | None) -> None:
    """Time probe queries on the warehouse and fit the planner's cost coefficients to it."""
    from rich.progress import Progress

    from .calibrate import calibrate as run_calibration

    with _load(project_path) as project, Progress(transient=True) as bar:
        task = bar.add_task("calibrating", total=None)
        result = run_calibration(
            project, repeat=repeat, output=output, progress=lambda d, t: bar.update(task, completed=d, total=t)
        )
    c = result["coefficients"]
    click.echo(
        f"calibrated {result['adapter']} on {result['table']} ({result['table_rows']:,} rows, "
        f"{len(result['probes'])} probes x {repeat}): overhead {c['overhead'] * 1000:.2f} ms, "
        f"{c['scan_row'] * 1e9:.2f} ns per row read, {c['agg_row'] * 1e9:.2f} ns per row and aggregate"
    )
    click.echo(f"wrote {result['path']}; the planner uses it for this warehouse from now on")


# -- catalog / plugins -------------------------------------------------------------------------------


@main.command()
@project_option
@click.option("--format", "-f", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@handle_errors
def catalog(project_path: Path, fmt: str) -> None:
    """List event names with counts, and properties with types."""
    with _load(project_path) as project:
        cat = project.catalog()
        events = cat.event_names()
        event_props = {name: col.kind for name, col in cat.event_properties().items()}
        user_props = {name: col.kind for name, (_, col) in cat.user_properties().items()}
        from .span import spans

        tables = spans(cat)
    if fmt == "json":
        payload = {
            "event_tables": [t.to_json() for t in tables],
            "events": [{"name": n, "count": c} for n, c in events.items()],
            "event_properties": [{"name": n, "type": t} for n, t in event_props.items()],
            "user_properties": [{"name": n, "type": t} for n, t in user_props.items()],
        }
        click.echo(json.dumps(payload, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console(width=120, color_system=None)
    for span in tables:
        console.print(span.describe())
    grid = Table(title="events", header_style="bold")
    grid.add_column("event")
    grid.add_column("rows", justify="right")
    for name, count in events.items():
        grid.add_row(name, f"{count:,}")
    console.print(grid)
    for title, props in (("event properties", event_props), ("user properties", user_props)):
        if not props:
            continue
        grid = Table(title=title, header_style="bold")
        grid.add_column("property")
        grid.add_column("type")
        for name, kind in props.items():
            grid.add_row(name, kind)
        console.print(grid)


@main.command()
@handle_errors
def plugins() -> None:
    """List loaded plugins, adapters and dialects, and where they come from."""
    from .registry import adapter_classes, flavor_classes, get_plugin_manager, measure_definitions

    pm = get_plugin_manager()
    click.echo("plugins:")
    for name, plugin in pm.list_name_plugin():
        origin = getattr(plugin, "__file__", None) or type(plugin).__module__
        click.echo(f"  {name}  ({origin})")
    click.echo("adapters (URL scheme -> class):")
    for scheme, cls in sorted(adapter_classes().items()):
        click.echo(f"  {scheme}://  {cls.__module__}.{cls.__name__}")
    click.echo("dialects: " + ", ".join(sorted(flavor_classes())))
    measures = measure_definitions()
    if measures:
        click.echo("plugin measures:")
        for name, definition in sorted(measures.items()):
            click.echo(f"  {name}  ({definition.result}; {definition.description})")


# -- serve ---------------------------------------------------------------------------------------------


@main.command()
@project_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind (loopback by default).")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True)
@click.option(
    "--token",
    envvar="SEGWISE_TOKEN",
    help="Require 'Authorization: Bearer TOKEN' on /api/* (also from $SEGWISE_TOKEN).",
)
@click.option(
    "--timeout", type=click.FloatRange(min=0.1), default=60.0, show_default=True, help="Seconds allowed per query."
)
@click.option(
    "--max-concurrent",
    type=click.IntRange(1, 256),
    default=4,
    show_default=True,
    help="Warehouse queries run at once; more wait their turn.",
)
@now_option
@no_cache_option
@handle_errors
def serve(
    project_path: Path,
    host: str,
    port: int,
    token: str | None,
    timeout: float,
    max_concurrent: int,
    now: str | None,
    no_cache: bool,
) -> None:
    """Serve the explorer page and the HTTP API (docs/explorer.md)."""
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise SpecError("segwise serve needs the web server packages: pip install 'segwise[serve]'") from None
    from .server import LOOPBACK_HOSTS, ServerSettings
    from .server import serve as serve_app

    moment = None
    if now:
        try:
            moment = datetime.fromisoformat(now)
        except ValueError:
            raise SpecError(f"--now {now!r} is not an ISO 8601 date or time", where="--now") from None
    settings = ServerSettings(
        token=token or None,
        query_timeout_s=timeout,
        max_concurrent_queries=max_concurrent,
        now=moment,
        cache=not no_cache,
    )
    project = _load(project_path)
    if host not in LOOPBACK_HOSTS and not token:
        click.echo(
            click.style("warning: ", fg="yellow", bold=True)
            + f"serving on {host} without --token: anyone who can reach it can query the warehouse",
            err=True,
        )
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"segwise explorer: http://{shown}:{port}/  (project {project_path}; Ctrl+C stops)", err=True)
    with project:
        serve_app(project, host=host, port=port, settings=settings)


# -- init (engine/init.py) -------------------------------------------------------------------------------


@main.command("init")
@click.argument("source", metavar="FILE_OR_URL")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default="segwise.yaml", show_default=True
)
@click.option("--table", help="The events table (a warehouse URL needs it; for a file: the name queries use).")
@click.option("--force", is_flag=True, help="Replace an existing project file.")
@handle_errors
def init_command(source: str, output: Path, table: str | None, force: bool) -> None:
    """Inspect FILE_OR_URL, guess the user id, event time and event name columns, write a project file."""
    from .init import init_project

    click.echo(init_project(source, output, table=table, force=force))


@main.command("schema")
@click.argument("kind", type=click.Choice(["project", "query"]))
@handle_errors
def schema_command(kind: str) -> None:
    """Print the JSON Schema of a project or query file (for editor completion; docs/project.md)."""
    from .schema import json_schema

    click.echo(json.dumps(json_schema(kind), indent=2))


# -- demo ---------------------------------------------------------------------------------------------


@main.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default="demo-data",
    show_default=True,
    help="Where to write the demo database and project file.",
)
@click.option("--users", type=click.IntRange(10, 5_000_000), default=None, help="Number of users to generate.")
@click.option("--days", type=click.IntRange(7, 3650), default=None, help="Days of events to generate.")
@click.option("--regenerate", is_flag=True, help="Generate the data again even if it exists.")
@handle_errors
def demo(directory: Path, users: int | None, days: int | None, regenerate: bool) -> None:
    """Generate a demo product's events into DuckDB and answer the example gallery."""
    from .demo.gallery import run_demo

    run_demo(directory, users=users, days=days, regenerate=regenerate)


if __name__ == "__main__":  # pragma: no cover
    main()
