"""The statement guard: nothing but one read-only query over the configured tables is sent.

segwise builds SQL as sqlglot expressions (never by pasting user input into text), takes names
only from the warehouse catalog and opens local engines read-only. The guard is the last check
before a statement leaves the process, in ``segwise.observe`` (the one place SQL is sent):

1. **The tree** (:func:`check_expression`, when the compiled expression is at hand): the root is a
   ``SELECT`` or a set operation of them (``UNION``/``INTERSECT``/``EXCEPT``, with ``WITH``);
   no node anywhere writes, changes the session or the schema (``INSERT``, ``UPDATE``,
   ``DELETE``, ``MERGE``, ``CREATE``, ``DROP``, ``ALTER``, ``COPY``, ``PRAGMA``, ``ATTACH``,
   ``SET``, ``CALL``/commands, ``SELECT ... INTO``, ``FOR UPDATE`` ...); no table function and no
   function from a deny-list of ones that read files, run SQL text, signal backends or change
   settings; and every table read is a configured table or a CTE of the statement.
2. **The text** (:func:`check_text`): the rendered SQL is scanned with the quoting rules of the
   target engine (a C regex; DuckDB, PostgreSQL with ``standard_conforming_strings`` and SQLite
   share them): it must be one statement (no ``;`` outside quotes), hold no ``--`` comment, no
   NUL, no stray quote, no string glued to a prefix (``E'...'``), and every string literal of
   the tree must come out of the text unchanged. So an escaping bug anywhere between the tree
   and the wire — the place injections live — is refused instead of sent.
3. **Text only** (:func:`check_sql`): a statement without its tree (or for an engine whose quoting
   rules the text scan does not know) is parsed with sqlglot in the adapter's dialect and the
   tree checks of (1) apply to the parse.

Why the tree and not a re-parse on the hot path: parsing rendered SQL with sqlglot costs 1.7 ms
for a one-series query and ~170 ms for an hourly rolling query with a 700-row bucket spine
(docs/reliability.md), more than running the query; and a re-parse is not a stronger guarantee:
sqlglot's tokenizer is not the engine's, and a bug shared by sqlglot's generator and tokenizer
would pass a re-parse unnoticed. The tree check is exact about what was built; the text scan
models the engine's own lexical rules (small enough to read) and checks that the text carries
exactly that tree's literals (those holding a quote or backslash: the only ones that could break out).
"""

from __future__ import annotations

import functools
import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlglot
from sqlglot import exp

from .errors import SegwiseError

if TYPE_CHECKING:
    from segwise.adapters.base import TableRef


class RefusedStatement(SegwiseError):
    """The guard refused to send a statement (it was not exactly one read-only query)."""


ROOTS: tuple[type[exp.Expr], ...] = (exp.Select, exp.SetOperation)

# Node types that write, change the schema or session, or are not a plain query.
_FORBIDDEN_NAMES = (
    "Insert",
    "Update",
    "Delete",
    "Merge",
    "Create",
    "Drop",
    "Alter",
    "TruncateTable",
    "Copy",
    "Command",
    "Pragma",
    "Attach",
    "Detach",
    "Set",
    "SetItem",
    "Use",
    "Transaction",
    "Commit",
    "Rollback",
    "Into",
    "LoadData",
    "Grant",
    "Revoke",
    "Lock",
    "Describe",
    "Show",
    "Cache",
    "Uncache",
    "Refresh",
    "Analyze",
    "Kill",
    "Install",
    "Summarize",
    "Declare",
    "Execute",
    "Export",
    "ReadCSV",
    "ReadParquet",
    "Put",
    "Get",
)
FORBIDDEN: tuple[type[exp.Expr], ...] = tuple(
    getattr(exp, name) for name in _FORBIDDEN_NAMES if isinstance(getattr(exp, name, None), type)
)

# Functions that read files or other databases, run SQL given as text, signal other sessions,
# change settings or sequences, or load code. Lower-case names, any engine.
DENIED_FUNCTIONS = frozenset(
    {
        # PostgreSQL
        "pg_read_file",
        "pg_read_binary_file",
        "pg_ls_dir",
        "pg_stat_file",
        "pg_ls_logdir",
        "pg_ls_waldir",
        "pg_ls_tmpdir",
        "lo_import",
        "lo_export",
        "lo_from_bytea",
        "lo_put",
        "lo_unlink",
        "dblink",
        "dblink_exec",
        "dblink_connect",
        "pg_terminate_backend",
        "pg_cancel_backend",
        "pg_reload_conf",
        "pg_rotate_logfile",
        "set_config",
        "nextval",
        "setval",
        "pg_advisory_lock",
        "pg_advisory_xact_lock",
        "pg_logical_emit_message",
        "pg_switch_wal",
        "pg_create_restore_point",
        "query_to_xml",
        "query_to_xml_and_xmlschema",
        "query_to_xmlschema",
        "cursor_to_xml",
        "table_to_xml",
        "table_to_xml_and_xmlschema",
        "schema_to_xml",
        "database_to_xml",
        # DuckDB
        "read_csv",
        "read_csv_auto",
        "read_parquet",
        "parquet_scan",
        "read_json",
        "read_json_auto",
        "read_json_objects",
        "read_ndjson",
        "read_text",
        "read_blob",
        "glob",
        "getenv",
        "query",
        "query_table",
        "sqlite_scan",
        "sqlite_attach",
        "postgres_scan",
        "postgres_query",
        "postgres_execute",
        "iceberg_scan",
        "delta_scan",
        "load_extension",
        # SQLite
        "readfile",
        "writefile",
        "edit",
        "fts3_tokenizer",
    }
)


def _function_name(node: exp.Expr) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return ""


def check_expression(expression: exp.Expr, tables: Iterable[TableRef] | None = None) -> list[str]:
    """Refuse a tree that is not one read-only query over ``tables`` (and its own CTEs).

    One walk over the tree; returns its string values holding a quote or backslash (for
    :func:`check_text`)."""
    if not isinstance(expression, ROOTS):
        raise RefusedStatement(
            f"segwise only sends read-only queries (SELECT, UNION, WITH ... SELECT); refused a "
            f"{type(expression).__name__} statement",
            where="statement guard",
        )
    allowed = None if tables is None else {tuple(part.lower() for part in t.parts) for t in tables}
    ctes: set[str] = set()
    read: list[exp.Table] = []
    literals: list[str] = []
    for node in expression.walk():
        if isinstance(node, exp.Literal):
            if node.is_string and _QUOTING.search(node.this):
                literals.append(str(node.this))
            continue
        if isinstance(node, FORBIDDEN):
            raise RefusedStatement(
                f"segwise only sends read-only queries; the statement contains {type(node).__name__.upper()}",
                where="statement guard",
            )
        if isinstance(node, exp.Anonymous) or (isinstance(node, exp.Func) and not isinstance(node, _SAFE_FUNCS)):
            name = _function_name(node)
            if name in DENIED_FUNCTIONS:
                raise RefusedStatement(
                    f"the statement calls {name}(), which reads or changes things outside the "
                    "configured tables; segwise does not send it",
                    where="statement guard",
                )
        elif isinstance(node, exp.Table):
            read.append(node)
        elif isinstance(node, exp.CTE):
            ctes.add(node.alias_or_name.lower())
    for table in read:
        _check_table(table, allowed, ctes)
    return literals


# Typed functions segwise's compiler uses all the time (none of them is on the deny-list).
_SAFE_FUNCS: tuple[type[exp.Expr], ...] = (
    exp.Cast,
    exp.Count,
    exp.Sum,
    exp.Avg,
    exp.Min,
    exp.Max,
    exp.Coalesce,
    exp.Case,
    exp.If,
    exp.Nullif,
    exp.Floor,
    exp.Abs,
    exp.Substring,
    exp.TimestampTrunc,
    exp.AtTimeZone if isinstance(exp.AtTimeZone, type) and issubclass(exp.AtTimeZone, exp.Func) else exp.Cast,
)


# Table functions that only generate rows from constants (the compiler's bucket spines).
SERIES_FUNCTIONS = frozenset({"generate_series"})


def _is_constant_series(target: exp.Expr | None) -> bool:
    """``generate_series(<constants>)``: rows made from literals, reading nothing."""
    if isinstance(target, exp.Anonymous):
        if _function_name(target) not in SERIES_FUNCTIONS:
            return False
    elif not isinstance(target, (exp.GenerateSeries, exp.ExplodingGenerateSeries)):  # as sqlglot parses it
        return False
    reads = (exp.Column, exp.Query, exp.Table, exp.Anonymous)
    return not any(isinstance(n, reads) for arg in target.iter_expressions() for n in arg.walk())


def _check_table(node: exp.Table, allowed: set[tuple[str, ...]] | None, ctes: set[str]) -> None:
    target = node.this
    if _is_constant_series(target):
        return
    if not isinstance(target, exp.Identifier):
        raise RefusedStatement(
            f"the statement reads from {target.sql() if target else 'an unnamed source'}, not a table; "
            "segwise only reads the configured tables",
            where="statement guard",
        )
    parts = tuple(str(p.name).lower() for p in (node.args.get("catalog"), node.args.get("db"), target) if p)
    if len(parts) == 1 and parts[0] in ctes:
        return
    if allowed is not None and parts not in allowed:
        shown = ".".join(str(p.name) for p in (node.args.get("catalog"), node.args.get("db"), target) if p)
        raise RefusedStatement(
            f"the statement reads table {shown!r}, which is not a configured event or user table",
            where="statement guard",
        )


# -- the text as the engine tokenizes it ----------------------------------------------------------

# Dialects whose quoting segwise renders as standard SQL: '...' with '' inside (backslash is an
# ordinary character: PostgreSQL sessions are opened with standard_conforming_strings = on),
# "..." identifiers with "" inside, /* ... */ comments (sqlglot renders plan-rule comments so).
STANDARD_QUOTING = frozenset({"duckdb", "postgres", "sqlite"})
# The quoted tokens in the engine's order: a string literal (captured), a quoted identifier, a comment.
_TOKENS = re.compile(r"('[^']*(?:''[^']*)*')|\"[^\"]*(?:\"\"[^\"]*)*\"|/\*.*?\*/", re.DOTALL)
_DANGER = re.compile(r";|--|/\*|\*/|'|\"|\x00|\\")
_PREFIXED = re.compile(r"[A-Za-z0-9_&$]")
_SCANNED_SIZE = 256  # texts remembered as passed (with the literals they had to carry)


def check_text(sql: str, dialect: str, literals: Iterable[str] = ()) -> None:
    """Refuse text that is not one statement carrying exactly the expected string ``literals``.

    The scan is a function of the text and the literals alone, so a text that passed is remembered
    (the last :data:`_SCANNED_SIZE`; a repeated query sends the same text) and not scanned again."""
    if "\x00" in sql:
        raise RefusedStatement(
            "the statement contains a NUL character; segwise does not send it", where="statement guard"
        )
    if dialect not in STANDARD_QUOTING:
        raise ValueError(f"check_text knows the quoting of {sorted(STANDARD_QUOTING)}, not {dialect!r}")
    _scan(sql, tuple(literals))


@functools.lru_cache(maxsize=_SCANNED_SIZE)
def _scan(sql: str, literals: tuple[str, ...]) -> None:
    """:func:`check_text`'s scan (a refusal raises, and is not remembered). ``split`` tokenizes in
    C: the text outside quotes at even places, each token's captured literal (None for an
    identifier or a comment) at odd ones."""
    parts = _TOKENS.split(sql)
    strings = []
    for before, token in zip(parts[0:-1:2], parts[1::2], strict=True):
        if token is None:
            continue
        if before and _PREFIXED.match(before[-1]):  # the character before the quote (none: another token's end)
            raise RefusedStatement(
                f"a string literal has a prefix ({before[-1]!r}) that changes how the engine reads it",
                where="statement guard",
            )
        strings.append(token)
    danger = _DANGER.search("".join(parts[0::2]))
    if danger is not None:
        raise RefusedStatement(
            f"the statement text has {danger.group()!r} outside quotes (more than one statement, a comment "
            "or an unbalanced quote); segwise does not send it",
            where="statement guard",
        )
    if not literals:
        return
    missing = Counter(literals) - Counter(token[1:-1].replace("''", "'") for token in strings)
    if missing:
        value = next(iter(missing))
        shown = value if len(value) <= 60 else value[:57] + "..."
        raise RefusedStatement(
            f"the string value {shown!r} does not appear intact in the statement text (an escaping error); "
            "segwise does not send it",
            where="statement guard",
        )


_QUOTING = re.compile(r"['\"\\]")


def string_literals(expression: exp.Expr) -> list[str]:
    """The tree's string values that hold a quote or a backslash: the ones an escaping error could
    let out of their quotes. (Others may be merged by the generator, ``INTERVAL '6 DAY'``, harmlessly.)"""
    return [
        str(node.this) for node in expression.find_all(exp.Literal) if node.is_string and _QUOTING.search(node.this)
    ]


# -- text only --------------------------------------------------------------------------------------


def check_sql(sql: str, dialect: str, tables: Iterable[TableRef] | None = None) -> exp.Expr:
    """Parse ``sql`` in ``dialect`` and refuse anything but exactly one read-only query."""
    if "\x00" in sql:
        raise RefusedStatement(
            "the statement contains a NUL character; segwise does not send it", where="statement guard"
        )
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)  # sqlglot warns when it falls back to a Command
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect or None) if s is not None]
    except sqlglot.errors.SqlglotError as exc:
        raise RefusedStatement(
            f"the statement does not parse as {dialect or 'SQL'}: {exc}", where="statement guard"
        ) from None
    finally:
        logger.setLevel(level)
    if len(statements) != 1:
        raise RefusedStatement(
            f"segwise sends exactly one statement at a time; this text holds {len(statements)}",
            where="statement guard",
        )
    check_expression(statements[0], tables)
    return statements[0]


@dataclass(frozen=True)
class CheckedTree:
    """A tree :func:`check_tree` passed, with its risky string literals: what the text rendered from
    it must carry intact. Lets the tree be walked once even when the text is made later."""

    expression: exp.Expr
    literals: tuple[str, ...]


def check_tree(expression: exp.Expr, tables: Iterable[TableRef] | None = None) -> CheckedTree:
    """:func:`check_expression`, remembered for :func:`check_statement`."""
    return CheckedTree(expression, tuple(check_expression(expression, tables)))


def check_statement(
    sql: str,
    dialect: str,
    expression: exp.Expr | None = None,
    tables: Iterable[TableRef] | None = None,
    checked: CheckedTree | None = None,
) -> None:
    """The guard as ``segwise.observe`` applies it (see the module docstring).

    ``checked``: the tree ``sql`` was rendered from, already checked (:func:`check_tree`); then only
    the text is scanned. The text may extend the tree's rendering by constant SQL (the ``LIMIT``
    guardrail), never by a string literal."""
    if dialect in STANDARD_QUOTING and checked is not None:
        check_text(sql, dialect, checked.literals)
    elif expression is not None and dialect in STANDARD_QUOTING:
        check_text(sql, dialect, check_expression(expression, tables))
    else:
        check_sql(sql, dialect, tables)


# -- text that cannot travel safely -------------------------------------------------------------------


def unsafe_text(data: object, path: str = "") -> tuple[str, str] | None:
    """The first string in ``data`` (nested dicts and lists) that no warehouse can take safely:
    ``(location, problem)``. A NUL character cuts statements short in C drivers and cannot be
    stored in PostgreSQL text; a lone surrogate is not Unicode and cannot be encoded as UTF-8."""
    if isinstance(data, str):
        if "\x00" in data:
            return path, "contains a NUL character (\\x00), which warehouses cannot store or compare"
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:
            return path, "is not valid Unicode (it holds a lone surrogate)"
        return None
    if isinstance(data, dict):
        for key, value in data.items():
            found = unsafe_text(key, path) or unsafe_text(value, f"{path} > {key}" if path else str(key))
            if found:
                return found
    elif isinstance(data, (list, tuple)):
        for index, value in enumerate(data):
            found = unsafe_text(value, f"{path}[{index}]")
            if found:
                return found
    return None


# -- the one writer: `segwise rollup build` -----------------------------------------------------------


def check_write(expression: exp.Expr, targets: Iterable[TableRef], reads: Iterable[TableRef]) -> list[str]:
    """Refuse a build statement that writes anywhere but ``targets`` or reads beyond ``reads``.

    Allowed: ``CREATE SCHEMA`` of a target's schema, ``CREATE TABLE`` / ``DROP TABLE`` /
    ``DELETE FROM`` / ``INSERT INTO`` a target, where any query inside passes
    :func:`check_expression` over ``reads`` and ``targets``. Returns the tree's risky literals.
    """
    target_parts = {tuple(p.lower() for p in t.parts) for t in targets}
    readable = [*reads, *targets]

    def table_parts(node: exp.Expr | None) -> tuple[str, ...]:
        if isinstance(node, exp.Schema):
            node = node.this
        if not isinstance(node, exp.Table) or not isinstance(node.this, exp.Identifier):
            raise RefusedStatement("a rollup build statement must name its table", where="statement guard")
        return tuple(str(p.name).lower() for p in (node.args.get("catalog"), node.args.get("db"), node.this) if p)

    kind = str(expression.args.get("kind") or "").upper()
    if isinstance(expression, exp.Create) and kind == "SCHEMA":
        schema = expression.this
        name = tuple(str(p.name).lower() for p in (schema.args.get("db"), schema.this) if p) if schema else ()
        if not any(t[:-1][-len(name) :] == name for t in target_parts if len(t) > 1):
            raise RefusedStatement(
                f"the build may only create the rollup's schema, not {name}", where="statement guard"
            )
        return []
    if isinstance(expression, (exp.Create, exp.Drop)) and kind != "TABLE":
        raise RefusedStatement(
            f"the build does not {type(expression).__name__.upper()} a {kind}", where="statement guard"
        )
    if not isinstance(expression, (exp.Create, exp.Drop, exp.Insert, exp.Delete)):
        raise RefusedStatement(
            f"a rollup build only creates, fills and clears its own tables; refused {type(expression).__name__}",
            where="statement guard",
        )
    written = expression.args.get("tables") if isinstance(expression, exp.Drop) else [expression.this]
    if not written or len(written) != 1:
        raise RefusedStatement("a rollup build statement writes exactly one table", where="statement guard")
    parts = table_parts(written[0])
    if parts not in target_parts:
        raise RefusedStatement(
            f"the build writes only the rollup's tables; refused a write to {'.'.join(parts)!r}",
            where="statement guard",
        )
    literals: list[str] = []
    inner = expression.args.get("expression")
    if isinstance(inner, exp.Values):
        for node in inner.walk():
            if isinstance(node, (*FORBIDDEN, exp.Query)):
                raise RefusedStatement("a build INSERT ... VALUES takes constants only", where="statement guard")
            if isinstance(node, exp.Literal) and node.is_string and _QUOTING.search(node.this):
                literals.append(str(node.this))
    elif inner is not None:
        literals += check_expression(inner, readable)
    condition = expression.args.get("where")
    if condition is not None:
        for node in condition.walk():
            if isinstance(node, (*FORBIDDEN, exp.Query)):
                raise RefusedStatement("a build DELETE takes plain conditions only", where="statement guard")
            if isinstance(node, exp.Literal) and node.is_string and _QUOTING.search(node.this):
                literals.append(str(node.this))
    return literals
