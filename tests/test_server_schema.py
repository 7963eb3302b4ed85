"""The API against its own OpenAPI description (schemathesis): generated requests for every
operation, each answer checked for status code, content type and body schema as documented,
and no 5xx. The number of examples per operation is bounded to keep the suite quick."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

import segwise
from segwise.server import ServerSettings, create_app
from tests.explorer_support import NOW, make_demo

EXAMPLES_PER_OPERATION = 30


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    project_file = make_demo(tmp_path_factory.mktemp("schema"))
    with segwise.Project.load(project_file) as project:
        app = create_app(project, ServerSettings(now=NOW, query_timeout_s=20))
        yield schemathesis.openapi.from_asgi("/openapi.json", app)


# Each operation is its own test, driven with hypothesis directly (schemathesis' lazy pytest
# loader relies on pytest internals that pytest 9 no longer has).
OPERATIONS = [
    ("GET", "/api/catalog"),
    ("GET", "/api/examples"),
    ("POST", "/api/query"),
    ("POST", "/api/sql"),
    ("POST", "/api/explain"),
]


def test_every_operation_is_covered(api_schema: Any) -> None:
    described = {(op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations()}
    assert described == set(OPERATIONS)


@pytest.mark.parametrize("method,path", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_api_conforms_to_its_openapi_description(api_schema: Any, method: str, path: str) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def check(case: Any) -> None:
        # Schema-valid is not enough for a query to be answerable: event and property names must
        # exist in the warehouse and formulas must name series, so a schema-valid body may get 422.
        case.call_and_validate(excluded_checks=[positive_data_acceptance])

    check()
