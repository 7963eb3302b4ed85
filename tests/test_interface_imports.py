"""The interface layer's imports: cli on top, then server and plot, then output; no circle through them.

Every import counts: at module level, inside functions and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"segwise": ROOT / "engine", "segwise.adapters": ROOT / "adapters", "segwise.plugins": ROOT / "plugins"}


def _modules() -> dict[str, tuple[Path, bool]]:
    modules: dict[str, tuple[Path, bool]] = {}
    for package, folder in FOLDERS.items():
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts = parts[:-1]
            modules[".".join([package, *parts])] = (path, is_package)
    return modules


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports (``from x import name`` counts as importing ``x.name``)."""
    modules = _modules()

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, (path, is_package) in modules.items():
        base = name if is_package else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if node.level:
                    anchor = base.rsplit(".", node.level - 1)[0] if node.level > 1 else base
                    module = f"{anchor}.{module}" if module else anchor
                targets = [f"{module}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                found = known(target) if target.startswith("segwise") else None
                if found and found != name:
                    graph[name].add(found)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def _interface(name: str) -> bool:
    return name in ("segwise.cli", "segwise.plot", "segwise.output") or name.startswith(
        ("segwise.server", "segwise.demo")
    )


def test_the_graph_sees_function_level_and_type_only_imports() -> None:
    graph = import_graph()
    assert "segwise.server.app" in graph["segwise.server"]
    assert "segwise.server" in graph["segwise.cli"]  # imported inside the serve command
    assert "segwise.compile" in graph["segwise.server.app"]  # under TYPE_CHECKING


def test_no_circle_runs_through_the_interface_modules() -> None:
    circles = [sorted(c) for c in cycles(import_graph()) if any(_interface(m) for m in c)]
    assert circles == []


def test_only_the_command_line_imports_the_server_plot_and_cli() -> None:
    graph = import_graph()
    for name, imported in graph.items():
        if name == "segwise.cli" or name.startswith("segwise.server"):
            continue
        wrong = sorted(m for m in imported if m in ("segwise.cli", "segwise.plot") or m.startswith("segwise.server"))
        assert not wrong, f"{name} imports {wrong}"
    assert not {"segwise.cli", "segwise.plot"} & set().union(
        *(deps for name, deps in graph.items() if name.startswith("segwise.server"))
    )


def test_output_is_below_the_interfaces() -> None:
    assert not {m for m in import_graph()["segwise.output"] if _interface(m)}
