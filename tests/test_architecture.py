"""The structure the docs promise: no import circle among segwise's modules (counting imports
inside functions and under TYPE_CHECKING), layers enforced by import-linter, small modules (every
Python file of the package, the tests and the benchmarks)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.importgraph import cycles, import_graph
from tests.typecheck import build_view

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"engine": "segwise", "adapters": "segwise.adapters", "plugins": "segwise.plugins"}
MAX_LINES = 600
ALSO_SMALL = ("tests", "benchmarks")  # beside the package: every module is readable in one sitting


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder, package in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            name = ".".join([package, *parts])
            if name.startswith("segwise.adapters") and folder == "engine":
                continue
            found[name] = path
    return found


def _graph() -> dict[str, set[str]]:
    return import_graph()


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    return sorted(sorted(c) for c in cycles(graph))


def test_no_import_circle_counting_every_import() -> None:
    graph = _graph()
    assert len(graph) > 40  # the walk found the package
    assert _cycles(graph) == []


def test_the_circle_check_sees_a_circle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]


def _sized() -> dict[str, Path]:
    """The package's modules by name, then every Python file below ``ALSO_SMALL`` by its path."""
    found = dict(_modules())
    for folder in ALSO_SMALL:
        for path in sorted((ROOT / folder).rglob("*.py")):
            found[path.relative_to(ROOT).as_posix()] = path
    return found


@pytest.mark.parametrize("name", sorted(_sized()))
def test_module_is_readable_in_one_sitting(name: str) -> None:
    path = _sized()[name]
    assert len(path.read_text().splitlines()) <= MAX_LINES, f"{path.relative_to(ROOT)} is over {MAX_LINES} lines"


def test_import_linter_contracts_hold(tmp_path: Path) -> None:
    """The contracts of pyproject.toml, on a view of the package as installed (its folders are
    mapped with package-dir, which import-linter cannot follow: tests/typecheck.py's view)."""
    build_view(tmp_path)
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--config", str(ROOT / "pyproject.toml")],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
