"""The bounded differential fuzz run: 40 random valid queries per live engine, derandomized (the
same queries on every run), each answer equal to the oracle's. The long run is a command:
``python -m tests.fuzz --examples 2000`` (see ``tests/fuzz.py``)."""

from __future__ import annotations

import pytest

from tests.fuzz import Tally, fuzz, fuzz_tables, load, vocabulary

EXAMPLES = {"spark": 8}  # a distributed job per series; everything else gets the default
DEFAULT_EXAMPLES = 40


@pytest.fixture(scope="module")
def tables():
    return fuzz_tables()


def test_random_queries_agree_with_the_oracle(backend: str, tables, tmp_path_factory: pytest.TempPathFactory) -> None:
    dataset = load(backend, tmp_path_factory.mktemp(f"{backend}-fuzz"), tables)
    tally = Tally()
    try:
        fuzz(dataset, vocabulary(tables), EXAMPLES.get(backend, DEFAULT_EXAMPLES), derandomize=True, tally=tally)
    finally:
        dataset.close()
    assert tally.checked[backend] + tally.refused[backend] >= EXAMPLES.get(backend, DEFAULT_EXAMPLES) // 2
