"""The guard's text scan (``guard.check_text``) against a character-by-character reference written
from its rules, on random texts; and a refusal is never remembered as a pass."""

from __future__ import annotations

import random
import time
from collections import Counter

import pytest

from segwise import guard

PREFIX = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_&$")
DANGER = (";", "--", "/*", "*/", "'", '"', "\\")


def reference(sql: str, literals: tuple[str, ...]) -> bool:
    """Whether the text passes, read one character at a time: '...' strings ('' inside), "..."
    identifiers ("" inside) and /* ... */ comments are tokens (an unclosed one is not: its opening
    character stays outside); the text outside the tokens, put together, must hold none of
    DANGER; no string may follow a prefix character; the strings must include ``literals``."""
    if "\x00" in sql:
        return False
    outside: list[str] = []
    strings: Counter[str] = Counter()
    i = 0
    while i < len(sql):
        char = sql[i]
        if char in "'\"":
            j, content = i + 1, []
            while j < len(sql):
                if sql[j] == char and sql[j + 1 : j + 2] == char:
                    content.append(char)
                    j += 2
                elif sql[j] == char:
                    break
                else:
                    content.append(sql[j])
                    j += 1
            if j < len(sql):  # closed
                if char == "'":
                    if i > 0 and sql[i - 1] in PREFIX:
                        return False
                    strings["".join(content)] += 1
                i = j + 1
                continue
        elif sql.startswith("/*", i) and "*/" in sql[i + 2 :]:
            i = sql.index("*/", i + 2) + 2
            continue
        outside.append(char)
        i += 1
    rest = "".join(outside)
    return not any(d in rest for d in DANGER) and not Counter(literals) - strings


PIECES = ["'", "''", '"', '""', "/*", "*/", "/", "*", "-", ";", "\\", "a", "E", "_", "$", "1", " ", "\n", "é"]
PIECES += ["'ab''c'", '"i""d"', "/* c */", "'a'", " 'a''x' ", "E'x'", "SELECT ", '"t"."c"']
LITERALS = [(), ("a",), ("'",), ("a'x",), ("",), ("a", "a"), ("ab'c",)]


def outcome(sql: str, literals: tuple[str, ...]) -> bool:
    try:
        guard.check_text(sql, "duckdb", literals)
    except guard.RefusedStatement:
        return False
    return True


@pytest.mark.parametrize("seed", range(4))
def test_text_scan_matches_the_reference(seed: int) -> None:
    rng = random.Random(seed)
    passed = refused = 0
    for _ in range(5000):
        sql = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 12)))
        literals = rng.choice(LITERALS)
        expected = reference(sql, literals)
        assert outcome(sql, literals) is expected, (sql, literals)
        assert outcome(sql, literals) is expected, (sql, literals)  # again: what the memo gives
        passed += expected
        refused += not expected
    assert passed > 200 and refused > 2000  # both outcomes well represented


def test_a_refused_text_stays_refused_and_a_passed_one_needs_its_literals() -> None:
    sql = "SELECT 'it''s' AS a FROM \"t\""
    guard.check_text(sql, "duckdb", ("it's",))
    guard.check_text(sql, "duckdb", ("it's",))  # remembered
    with pytest.raises(guard.RefusedStatement, match="intact"):
        guard.check_text(sql, "duckdb", ("it's", "it's"))  # the same text with other literals is scanned
    bad = sql + "; DROP TABLE t"
    for _ in range(2):
        with pytest.raises(guard.RefusedStatement, match="outside quotes"):
            guard.check_text(bad, "duckdb")


def test_an_unclosed_quote_is_refused_at_once() -> None:
    """The tokenizer has one way to match a text (no nested repetition): an unclosed quote followed
    by a long text is refused in linear time (the pattern before took exponential time: ~0.3 s at
    20 characters, doubling every two)."""
    for quote in "'\"":
        sql = f"SELECT {quote}" + "ab c" * 500
        started = time.perf_counter()
        with pytest.raises(guard.RefusedStatement, match="outside quotes"):
            guard.check_text(sql, "duckdb")
        assert time.perf_counter() - started < 1.0
