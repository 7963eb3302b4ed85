"""Apache Spark, live: Spark SQL through PySpark, results as Arrow (``DataFrame.toArrow()``).

URLs
----

* ``spark://local``, ``spark://local[4]``, ``spark://local[*]`` — local mode in this process's
  JVM (needs Java 17 or newer);
* ``spark://host:7077`` — a standalone cluster's master;
* ``sc://host:15002`` — a Spark Connect server (``sc://host:15002/;token=...`` passes Spark
  Connect's own parameters through; needs ``pyspark[connect]``, part of ``segwise[spark]``).

Query parameters (after ``?``; they are segwise's, not passed to Spark Connect):

* ``database=NAME`` — the current database, so the project can name tables unqualified;
* ``parquet.NAME=PATH`` — a temporary view ``NAME`` over the Parquet directory ``PATH``
  (relative to the project file). Hive-style partition directories (``event_date=2025-01-01/``)
  become a partition column, which Spark prunes; the project declares it with ``partition:``;
* ``spark.*=VALUE`` — Spark configuration for the session segwise starts (ignored, as Spark
  does, for static settings when a SparkContext is already running in the process).

So a project over partitioned Parquet reads::

    warehouse: spark://local[4]?parquet.events=data/events&parquet.users=data/users
    event_tables:
      - table: events
        partition: {column: event_date, granularity: day, format: date}

and one over catalog tables (Hive metastore, Unity Catalog, ...) names them as usual
(``table: analytics.events``; a file can also be named directly as Spark SQL allows:
``table: parquet./abs/dir``, when the path has no dot).

Sessions
--------

Spark runs one SparkContext (one JVM) per process. Each adapter works in its own
``SparkSession.newSession()`` on it — its own temporary views, current database and SQL
settings, shared cache — so projects on different data in one process do not disturb each
other, and a second project starts in milliseconds, not seconds. ``close()`` leaves the
SparkContext running for the next adapter (it ends with the process). Sessions are pinned to
``spark.sql.session.timeZone = UTC``: the SQL does not depend on it, but ``TIMESTAMP`` (with
local time zone) columns are read and returned in it.

SQL and read-only use
---------------------

The SQL is the :class:`~segwise.adapters.dialects.DatabricksFlavor` (Spark SQL semantics:
``TIMESTAMP_NTZ`` buckets, exact ``PERCENTILE``, ``CONVERT_TIMEZONE``) rendered in sqlglot's
``spark`` dialect. Spark has no read-only session, and ``spark.sql()`` runs commands eagerly, so
``execute`` parses the statement first and refuses anything but one query.

Pruning
-------

The time filter is on the raw event-time column, so Parquet row groups are skipped by their
min/max statistics (``PushedFilters: [GreaterThanOrEqual(event_time, …), LessThan(…)]`` in the
physical plan). Directory partitions are pruned when the project declares the partition column
(``partition:``): the planner adds a predicate on it, which Spark shows as ``PartitionFilters``
on the scan and uses to list only the matching directories. :meth:`SparkAdapter.explain` returns
the physical plan (``tests/test_spark.py`` checks both).

Timeouts and cancel
-------------------

Each statement runs in a job group of its own (``SparkContext.setJobGroup`` with
``interruptOnCancel``; over Spark Connect, an operation tag). A timeout, Ctrl-C or a ``segwise
serve`` client that goes away cancels that group and its future jobs
(``cancelJobGroupAndFutureJobs``; over Spark Connect ``interruptTag``, re-sent until the statement
is over, see ``spark_cancel``), so the cluster stops the statement's jobs and tasks, not only the
client waiting for them (``tests/test_spark_cancel.py`` checks Spark's status tracker,
``tests/test_spark_connect_cancel.py`` a Connect server's REST API).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import shutil
import socket
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qsl, unquote

import pyarrow as pa
import sqlglot
from sqlglot import exp

from segwise.errors import CatalogError, WarehouseError
from segwise.hookspecs import hookimpl

from .base import Adapter, ColumnInfo, ConnectionCapabilities, SqlFlavor, Statement, TableRef, dialect_call
from .dialects import DatabricksFlavor
from .spark_cancel import StatementCancel

if TYPE_CHECKING:
    from types import ModuleType

    from .filetables import FileTable

DEFAULT_CONFIG: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}
SESSION_CONFIG: dict[str, str] = {"spark.sql.session.timeZone": "UTC"}
APP_NAME = "segwise"
CONNECT_TIMEOUT_SECONDS = 10

_START_LOCK = threading.Lock()


# -- URLs ------------------------------------------------------------------------------------------


class SparkTarget:
    """A parsed Spark URL: where the session comes from, and segwise's options."""

    def __init__(self, url: str, base_dir: Path | None = None) -> None:
        scheme, sep, rest = url.partition("://")
        if not sep or scheme.lower() not in ("spark", "sc"):
            raise WarehouseError(f"not a Spark URL: {url!r}", where=url)
        self.connect = scheme.lower() == "sc"
        location, _, query = rest.partition("?")
        self.options = dict(parse_qsl(query, keep_blank_values=True))
        host = location.split("/", 1)[0]
        if self.connect:
            if not host:
                raise WarehouseError(f"Spark Connect URLs name a server: sc://host:15002, not {url!r}", where=url)
            self.master = f"sc://{location}"
        elif location.rstrip("/") != host or not host:
            raise WarehouseError(
                f"Spark URLs are spark://local, spark://local[N], spark://host:7077 or sc://host:15002, not {url!r}",
                where=url,
            )
        elif host == "local" or (host.startswith("local[") and host.endswith("]")):
            self.master = host
        elif ":" in host:
            self.master = f"spark://{host}"
        else:
            raise WarehouseError(
                f"Spark URLs are spark://local, spark://local[N], spark://host:7077 or sc://host:15002, not {url!r}",
                where=url,
            )
        self.database: str | None = self.options.pop("database", None) or None
        self.views: dict[str, str] = {}
        self.config: dict[str, str] = {}
        unknown = []
        for key, value in self.options.items():
            if key.startswith("parquet.") and len(key) > len("parquet."):
                path = Path(unquote(value))
                path = path if path.is_absolute() else (base_dir or Path.cwd()) / path
                self.views[key[len("parquet.") :]] = str(path)
            elif key.startswith("spark."):
                self.config[key] = value
            else:
                unknown.append(key)
        if unknown:
            raise WarehouseError(
                f"unknown Spark URL parameter(s) {', '.join(sorted(unknown))}; known: database, parquet.NAME, spark.*",
                where=url,
            )


# -- types -------------------------------------------------------------------------------------------


def classify_spark_type(simple: str) -> str:
    """A Spark SQL type (``DataType.simpleString()``) as segwise's logical kind."""
    t = simple.lower()
    if t == "timestamp_ntz":
        return "timestamp"
    if t == "timestamp":
        return "timestamptz"
    if t == "date":
        return "date"
    if t == "boolean":
        return "boolean"
    if t in ("tinyint", "smallint", "int", "bigint"):
        return "integer"
    if t in ("float", "double") or t.startswith("decimal"):
        return "float"
    if t == "string" or t.startswith(("varchar", "char")):
        return "string"
    return "other"


def normalise(table: pa.Table) -> pa.Table:
    """Spark's Arrow -> segwise's: int64, float64, ``string`` (not ``large_string``), µs times."""
    columns: list[Any] = []
    for column in table.columns:
        t = column.type
        if pa.types.is_integer(t) and t != pa.int64():
            column = column.cast(pa.int64())
        elif (pa.types.is_floating(t) and t != pa.float64()) or pa.types.is_decimal(t):
            column = column.cast(pa.float64())
        elif pa.types.is_large_string(t) or pa.types.is_string_view(t):
            column = column.cast(pa.string())
        elif pa.types.is_timestamp(t) and t.unit != "us":
            column = column.cast(pa.timestamp("us", tz=t.tz))
        columns.append(column)
    return pa.table(columns, names=table.column_names)


# -- errors -----------------------------------------------------------------------------------------


def spark_message(exc: BaseException) -> tuple[str, str | None, str | None]:
    """(one-paragraph message, SQLSTATE, error class) of a PySpark or Py4J error."""
    state = condition = None
    getters = [("getSqlState", "state"), ("getCondition", "condition")]
    if not hasattr(exc, "getCondition"):  # PySpark before 4.0
        getters.append(("getErrorClass", "condition"))
    for getter, slot in getters:
        method = getattr(exc, getter, None)
        if callable(method):
            try:
                value = method()
            except Exception:  # pragma: no cover - a getter that needs the JVM, which is gone
                value = None
            if value and slot == "state":
                state = str(value)
            elif value and slot == "condition" and condition is None:
                condition = str(value)
    text = str(exc)
    for marker in ("\nJVM stacktrace:", "\n\tat ", "; line ", "\n== SQL", "\n'", "\n+-"):
        text = text.split(marker)[0]
    text = text.replace(f"SQLSTATE: {state}", "") if state else text
    return " ".join(text.split()).rstrip(". ") + ".", state, condition


# -- the adapter -------------------------------------------------------------------------------------


def _import(module: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise WarehouseError(
            f"the Spark adapter needs PySpark, which is not installed ({exc})", hint="pip install 'segwise[spark]'"
        ) from exc


def java_available() -> bool:
    """Whether a local Spark can start a JVM here (``JAVA_HOME`` or ``java`` on ``PATH``)."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return True
    return shutil.which("java") is not None


# A DOUBLE printed as Python's repr (and DuckDB) print it. Spark prints doubles with Java's
# Double.toString ('1.0E-5', '1.0E15'; before Java 19 not always the shortest digits), so the
# digits are found as Python finds them: the fewest significant digits (format_string '%.Pe',
# correctly rounded) that read back as the same double. Then the exponent decides between fixed
# and scientific notation as in Python (scientific below 1e-4 and from 1e16). Lambdas over
# one-element arrays name intermediate values. `_v` stands for the value; no user input here.
_FLOAT_TEXT = """
CASE WHEN _v IS NULL THEN NULL ELSE transform(array(CAST(_v AS DOUBLE)), __v ->
  CASE WHEN isnan(__v) THEN 'nan'
       WHEN __v = CAST('inf' AS DOUBLE) THEN 'inf'
       WHEN __v = CAST('-inf' AS DOUBLE) THEN '-inf'
       WHEN __v = 0 THEN CASE WHEN CAST(__v AS STRING) LIKE '-%' THEN '-0.0' ELSE '0.0' END
       ELSE transform(array(filter(transform(sequence(0, 16), __p -> format_string(concat('%.', __p, 'e'), abs(__v))),
                                   __s -> try_cast(__s AS DOUBLE) = abs(__v))[0]), __s ->
         transform(array(named_struct('d', replace(substring_index(__s, 'e', 1), '.', ''),
                                      'x', CAST(substring_index(__s, 'e', -1) AS INT))), __r ->
           concat(CASE WHEN __v < 0 THEN '-' ELSE '' END,
             CASE WHEN __r.x < -4 OR __r.x >= 16 THEN
                    concat(substring(__r.d, 1, 1),
                           CASE WHEN length(__r.d) > 1 THEN concat('.', substring(__r.d, 2)) ELSE '' END,
                           'e', CASE WHEN __r.x < 0 THEN '-' ELSE '+' END,
                           CASE WHEN abs(__r.x) < 10 THEN '0' ELSE '' END, CAST(abs(__r.x) AS STRING))
                  WHEN __r.x >= 0 THEN
                    concat(substring(rpad(__r.d, __r.x + 1, '0'), 1, __r.x + 1), '.',
                           CASE WHEN length(__r.d) > __r.x + 1 THEN substring(__r.d, __r.x + 2) ELSE '0' END)
                  ELSE concat('0.', repeat('0', -__r.x - 1), __r.d)
             END))[0])[0]
  END)[0] END
"""


@functools.cache
def _float_text_tree() -> exp.Expr:
    return sqlglot.parse_one(_FLOAT_TEXT, dialect="spark")


def float_text(value: exp.Expr) -> exp.Expr:
    """Spark SQL for a DOUBLE's text as Python's ``repr`` prints it (see ``_FLOAT_TEXT``)."""
    tree = _float_text_tree().copy()
    for column in list(tree.find_all(exp.Column)):
        if column.name == "_v" and not column.table:
            column.replace(value.copy())
    return tree


class SparkFlavor(DatabricksFlavor):
    """Spark SQL: the Databricks flavor's constructs, rendered in sqlglot's ``spark`` dialect.

    Breakdown values of DOUBLE columns print as Python and DuckDB print them (``1e-05``,
    ``1000000000000000.0``), not as Java does (``1.0E-5``, ``1.0E15``).
    """

    name: ClassVar[str] = "spark"
    dialect: ClassVar[str] = "spark"

    def epoch_micros(self, ts: exp.Expr) -> exp.Expr:  # NTZ arithmetic: no session zone
        epoch = self.timestamp_literal("1970-01-01 00:00:00", False)
        return dialect_call("TIMESTAMPDIFF", exp.var("MICROSECOND"), epoch, ts)

    def as_text(self, value: exp.Expr, kind: str) -> exp.Expr:
        if kind == "float":
            return float_text(value)
        return super().as_text(value, kind)


class SparkAdapter(Adapter):
    """A Spark session (local, standalone cluster or Spark Connect) answering Spark SQL as Arrow."""

    name: ClassVar[str] = "spark"
    schemes: ClassVar[tuple[str, ...]] = ("spark", "sc")
    flavor_class: ClassVar[type[SqlFlavor]] = SparkFlavor
    capabilities: ClassVar[ConnectionCapabilities] = ConnectionCapabilities(cancel=True)

    def __init__(self, url: str, base_dir: Path | None = None) -> None:
        super().__init__(url, base_dir)
        self.target = SparkTarget(url, base_dir)
        self.last_job_group: str | None = None  # the job group (Connect: tag) of the latest statement
        self.last_cancel: StatementCancel | None = None  # and its canceller
        self.display_url = url.split("?", 1)[0] if self.target.connect else url
        sql_module = _import("pyspark.sql")
        self._errors = self._error_types()
        self._spark: Any = self._session(sql_module)
        try:
            for key, value in SESSION_CONFIG.items():
                self._spark.conf.set(key, value)
            if self.target.database:
                self._spark.catalog.setCurrentDatabase(self.target.database)
            for name, path in self.target.views.items():
                if not Path(path).exists() and not self.target.connect and self.target.master.startswith("local"):
                    raise WarehouseError(f"Parquet directory for the view {name!r} not found: {path}", where=url)
                self._spark.read.parquet(path).createOrReplaceTempView(name)
        except self._errors as exc:
            raise self._error(exc, "could not set up the session") from exc

    def attach_files(self, tables: list[FileTable]) -> None:
        """A temporary view per ``file:`` table over exactly its files (Spark's own readers).

        Spark has no allowed-paths setting: segwise's own statement check (one query over the
        configured tables, no table functions) is what keeps queries to the declared files.
        """
        for table in tables:
            try:
                reader = self._spark.read
                if table.hive_partitioning:
                    reader = reader.option("basePath", table.root)
                if table.format in ("csv", "tsv"):
                    frame = reader.csv(
                        list(table.paths),
                        header=True,
                        inferSchema=True,
                        sep="\t" if table.format == "tsv" else ",",
                        timestampFormat="yyyy-MM-dd HH:mm:ss",
                    )
                elif table.format == "parquet":
                    frame = reader.parquet(*table.paths)
                else:
                    frame = reader.json(list(table.paths), multiLine=table.format == "json")
                frame.createOrReplaceTempView(table.name)
            except self._errors as exc:
                message, _, _ = spark_message(exc)
                raise CatalogError(
                    f"Spark cannot read {table.pattern!r} as {table.format} (first file {table.paths[0]}): "
                    f"{message.splitlines()[0] if message else exc}",
                    where=table.where,
                ) from None

    # -- sessions ------------------------------------------------------------------------------

    @staticmethod
    def _error_types() -> tuple[type[BaseException], ...]:
        found: list[type[BaseException]] = []
        for module, name in (("pyspark.errors", "PySparkException"), ("py4j.protocol", "Py4JError")):
            try:
                found.append(getattr(importlib.import_module(module), name))
            except (ImportError, AttributeError):  # pragma: no cover - every supported PySpark has both
                continue
        return tuple(found) or (Exception,)

    def _session(self, sql_module: ModuleType) -> Any:
        builder_cls = sql_module.SparkSession
        target = self.target
        if target.connect:
            _import("pyspark.sql.connect.session")  # names the extra if grpc etc. are missing
            self._probe(target.master)  # the client would retry an unreachable server for minutes
            # Creating a Spark Connect session marks the whole process as "remote" in os.environ
            # (pyspark's is_remote), after which a local session in the same process fails to
            # start; segwise only calls methods of the session it holds, so the mark is undone.
            marked = "SPARK_CONNECT_MODE_ENABLED" in os.environ
            try:
                builder = builder_cls.builder.remote(target.master)
                for key, value in target.config.items():
                    builder = builder.config(key, value)
                return builder.create()
            except Exception as exc:
                message, state, _ = spark_message(exc)
                raise WarehouseError(
                    f"cannot connect to Spark Connect at {target.master}: {message}",
                    where=self.display_url,
                    hint="is the Spark Connect server running (start-connect-server.sh), and is the port right?",
                    sqlstate=state,
                ) from exc
            finally:
                if not marked:
                    os.environ.pop("SPARK_CONNECT_MODE_ENABLED", None)
        if target.master.startswith("local") and not java_available():
            raise WarehouseError(
                "Spark local mode needs Java (17 or newer), and none was found (no JAVA_HOME, no java on PATH)",
                where=self.url,
                hint="install a JDK (Debian/Ubuntu: apt-get install openjdk-17-jre-headless) or set JAVA_HOME",
            )
        with _START_LOCK:
            active = builder_cls.getActiveSession()
            try:
                if active is None:
                    builder = builder_cls.builder.master(target.master).appName(APP_NAME)
                    for key, value in {**DEFAULT_CONFIG, **target.config}.items():
                        builder = builder.config(key, value)
                    active = builder.getOrCreate()
                elif target.master.startswith("spark://") and active.sparkContext.master != target.master:
                    raise WarehouseError(  # one SparkContext per process: a cluster cannot join a running one
                        f"this process already runs Spark on {active.sparkContext.master}, not {target.master}",
                        where=self.url,
                        hint="Spark allows one SparkContext per process: use one Spark master per process",
                    )
                return active.newSession()
            except WarehouseError:
                raise
            except Exception as exc:
                message, state, _ = spark_message(exc)
                raise WarehouseError(
                    f"cannot start Spark ({target.master}): {message}",
                    where=self.url,
                    hint="a cluster master must be reachable (spark://host:7077); local mode needs Java 17+",
                    sqlstate=state,
                ) from exc

    def _probe(self, master: str) -> None:
        """Fail fast (one TCP connect) when a Spark Connect server cannot be reached."""
        location = master[len("sc://") :].split("/", 1)[0]
        host, _, port = location.rpartition(":") if ":" in location else (location, "", "15002")
        try:
            socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_SECONDS).close()
        except (OSError, ValueError) as exc:
            raise WarehouseError(
                f"cannot reach the Spark Connect server at {location}: {exc}",
                where=self.display_url,
                hint="is the Spark Connect server running (start-connect-server.sh), and is the port right "
                "(default 15002)?",
            ) from exc

    def close(self) -> None:
        if self.target.connect:
            with contextlib.suppress(*self._errors):  # the server may have gone away already
                self._spark.stop()
            return
        for name in self.target.views:
            with contextlib.suppress(*self._errors):  # the context may have been stopped by someone else
                self._spark.catalog.dropTempView(name)

    # -- execution -----------------------------------------------------------------------------

    def check_query(self, sql: str) -> None:
        """Refuse anything but one query: ``spark.sql()`` runs commands (DDL, DML) immediately."""
        try:
            statements = [s for s in sqlglot.parse(sql, dialect=self.flavor.dialect) if s is not None]
        except sqlglot.errors.ParseError:
            return  # Spark will say what is wrong with it
        if len(statements) != 1 or not isinstance(statements[0], exp.Query):
            kind = type(statements[0]).__name__.upper() if len(statements) == 1 else f"{len(statements)} statements"
            raise WarehouseError(
                f"Spark refused: segwise runs one read-only query per call, not {kind} (segwise uses Spark read-only)",
                where=self.display_url,
            )

    def execute(self, sql: str) -> pa.Table:
        self.check_query(sql)
        try:
            return normalise(self._spark.sql(sql).toArrow())
        except self._errors as exc:
            raise self._error(exc) from exc

    def execute_statement(self, sql: str, statement: Statement) -> pa.Table:
        """Run ``sql`` in a job group of its own (over Spark Connect: an operation tag); cancelling
        ``statement`` stops the group's jobs on the warehouse (``spark_cancel.StatementCancel``)."""
        self.check_query(sql)
        group = f"segwise-{uuid.uuid4().hex}"
        self.last_job_group = group
        cancel = StatementCancel(self._spark, group, self.target.connect, self._errors)
        self.last_cancel = cancel
        statement.set_canceller(cancel)
        try:
            if statement.cancelled:
                raise WarehouseError(
                    "the Spark statement was cancelled before it started", where=self.display_url, sqlstate="57014"
                )
            frame = self._spark.sql(sql)  # over Spark Connect an operation of its own (the analysis)
            if statement.cancelled:
                raise WarehouseError(
                    f"the Spark statement was cancelled (job group {group})", where=self.display_url, sqlstate="57014"
                )
            return normalise(frame.toArrow())
        except self._errors as exc:
            if statement.cancelled:
                raise WarehouseError(
                    f"the Spark statement was cancelled (job group {group})", where=self.display_url, sqlstate="57014"
                ) from exc
            raise self._error(exc) from exc
        finally:
            statement.set_canceller(None)
            cancel.finish()

    def explain(self, sql: str, analyze: bool = False) -> str:
        """Spark's physical plan for ``sql`` (``EXPLAIN FORMATTED``: each scan's
        ``PartitionFilters`` and ``PushedFilters``). ``analyze`` also runs the statement and adds
        each file scan's metrics (partitions and files read, rows), Spark's nearest thing to
        EXPLAIN ANALYZE (local and cluster sessions; Spark Connect shows the plan only)."""
        self.check_query(sql)
        try:
            rows = self._spark.sql(f"EXPLAIN FORMATTED {sql}").collect()
        except self._errors as exc:
            raise self._error(exc) from exc
        text = "\n".join(str(row[0]) for row in rows)
        if analyze and not self.target.connect:
            scans = self.scan_metrics(sql)
            text += "\n\nScans (run-time metrics):\n" + "\n".join(
                f"  {name}: " + ", ".join(f"{k}={v}" for k, v in sorted(metrics.items())) for name, metrics in scans
            )
        return text

    def scan_metrics(self, sql: str) -> list[tuple[str, dict[str, int]]]:
        """Run ``sql``; each file scan's metrics (``numPartitions``, ``numFiles``, ...); not over Spark Connect."""
        self.check_query(sql)
        try:
            frame = self._spark.sql(sql)
            frame.toArrow()
            pending = [frame._jdf.queryExecution().executedPlan()]
            found: list[tuple[str, dict[str, int]]] = []
            while pending:
                node = pending.pop()
                kind = str(node.nodeName())
                if kind == "AdaptiveSparkPlan" or kind.endswith("QueryStage"):  # adaptive execution: leaves
                    pending.append(node.executedPlan() if kind == "AdaptiveSparkPlan" else node.plan())
                children = node.children()
                pending.extend(children.apply(i) for i in range(children.size()))
                if kind.startswith("Scan "):
                    metrics: dict[str, int] = {}
                    entries = node.metrics().iterator()
                    while entries.hasNext():
                        entry = entries.next()
                        metrics[str(entry._1())] = int(entry._2().value())
                    found.append((kind.strip(), metrics))
        except self._errors as exc:
            raise self._error(exc) from exc
        return found

    # -- catalog -------------------------------------------------------------------------------

    def columns(self, table: TableRef) -> list[ColumnInfo]:
        probe = exp.select(exp.Star()).from_(table.expression()).where(exp.false())
        try:
            schema = self._spark.sql(self.flavor.render(probe)).schema
        except self._errors as exc:
            message, _, condition = spark_message(exc)
            if condition and condition.startswith(("TABLE_OR_VIEW_NOT_FOUND", "SCHEMA_NOT_FOUND", "PATH_NOT_FOUND")):
                raise CatalogError(
                    f"table {str(table)!r} not found in Spark: {message}", where=self.display_url
                ) from exc
            raise self._error(exc, f"failed to describe {table}") from exc
        return [
            ColumnInfo(field.name, field.dataType.simpleString(), classify_spark_type(field.dataType.simpleString()))
            for field in schema.fields
        ]

    # -- errors --------------------------------------------------------------------------------

    def _error(self, exc: BaseException, what: str = "failed") -> WarehouseError:
        message, state, _ = spark_message(exc)
        if "Java gateway process exited" in message:
            message += " (is Java 17+ installed?)"
        return WarehouseError(f"Spark {what}: {message}", where=self.display_url, sqlstate=state)


@hookimpl
def segwise_adapters() -> list[type[Adapter]]:
    return [SparkAdapter]
