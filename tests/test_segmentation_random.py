"""Fixed-seed random queries (``tests/segmentation_cases.py``), engine against oracle, on the
``edge`` and ``generated`` datasets."""

from __future__ import annotations

import random

import pytest

from tests.segmentation_cases import EDGE_RANDOM, GENERATED_RANDOM, random_query


@pytest.mark.parametrize("seed", range(60))
def test_random_queries_edge(edge, seed):
    query, options = random_query(random.Random(seed), **EDGE_RANDOM)
    edge.check(query, **options)


@pytest.mark.parametrize("seed", range(40))
def test_random_queries_generated(generated, seed):
    query, options = random_query(random.Random(1000 + seed), **GENERATED_RANDOM)
    generated.check(query, **options)
