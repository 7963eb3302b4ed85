"""The README Quickstart runs as written on the demo: its project file is the demo's, its query
answers with rows (no empty-range warning), and every command it lists exits 0."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from segwise.cli import main

ROOT = Path(__file__).resolve().parents[1]


def quickstart() -> str:
    text = (ROOT / "README.md").read_text()
    return text[text.index("## Quickstart") : text.index("### Your own data")]


def blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def test_readme_project_file_is_the_demos() -> None:
    project, _query = blocks(quickstart(), "yaml")
    assert yaml.safe_load(project) == yaml.safe_load((ROOT / "examples" / "segwise.yaml").read_text())


def test_readme_commands_run_on_the_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(main, ["demo", "--users", "400"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    wide = [line for line in result.stdout.splitlines() if len(line) > 80]
    assert not wide, wide  # the demo's answers fit a default terminal
    _project, query = blocks(quickstart(), "yaml")
    Path("signups.yaml").write_text(query)
    (commands,) = blocks(quickstart(), "bash")
    lines = [line.split("#")[0].strip() for line in commands.splitlines() if line.strip()]
    assert lines and all(line.startswith(".venv/bin/segwise ") for line in lines)
    for line in lines:
        args = shlex.split(line)[1:]
        result = runner.invoke(main, args, catch_exceptions=False)
        assert result.exit_code == 0, (line, result.output)
        assert "warning" not in result.stderr, (line, result.stderr)
        if args[0] == "run" and "-f" not in args:
            assert "sign-ups" in result.stdout and "signups.yaml" in result.stdout
