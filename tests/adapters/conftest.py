"""The fixtures of the adapter tests: each engine of ``hand.ENGINES``, the hand-made dataset loaded
into it (once per module) and an adapter open on it; the PostgreSQL session server."""

from __future__ import annotations

from typing import Any

import pytest

from segwise.registry import open_adapter
from tests.adapters.hand import ENGINES, url_for
from tests.pg import PostgresServer, get_server, postgres_dsn


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def urls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Engine -> URL of the hand-made dataset (PostgreSQL loads lazily: see ``url_for``)."""
    return {}


@pytest.fixture
def adapter(engine: str, urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Any:
    opened = open_adapter(url_for(engine, urls, tmp_path_factory))
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def server() -> PostgresServer:
    postgres_dsn()  # skips (or fails with SEGWISE_REQUIRE_POSTGRES=1) when there is no server
    return get_server()
