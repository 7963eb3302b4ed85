"""The interface layer's imports: cli on top, then server and plot, then output; no circle through them.

Every import counts: at module level, inside functions and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

from tests.importgraph import cycles, import_graph


def _interface(name: str) -> bool:
    return name in ("segwise.cli", "segwise.plot", "segwise.output") or name.startswith(
        ("segwise.server", "segwise.demo")
    )


def test_the_graph_sees_function_level_and_type_only_imports() -> None:
    graph = import_graph()
    assert "segwise.server.app" in graph["segwise.server"]
    assert "segwise.server" in graph["segwise.cli"]  # imported inside the serve command
    assert "segwise.compiled" in graph["segwise.server.app"]  # under TYPE_CHECKING


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
