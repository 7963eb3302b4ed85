"""The wheel is enough: built from this checkout, installed in a fresh venv (outside the checkout),
``segwise demo`` answers the whole gallery and the explorer's example menu is filled.

Slow (a venv and its dependencies, ~1-2 min): ``pytest -m slow tests/test_wheel.py``. pip uses its
configured indexes and wheel caches (no network needed where they hold the dependencies).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@pytest.mark.slow
def test_wheel_in_a_fresh_venv_runs_the_demo_and_lists_examples(tmp_path: Path) -> None:
    def run(*args: str | Path, cwd: Path = tmp_path, timeout: float = 600) -> str:
        result = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout)
        assert result.returncode == 0, f"{args}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        return result.stdout

    wheels = tmp_path / "dist"
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", wheels, ROOT)
    (wheel,) = wheels.glob("segwise-*.whl")
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", f"{wheel}[serve]")
    where = run(python, "-c", "import segwise; print(segwise.__file__)").strip()
    assert where.startswith(str(venv)), where  # the installed package, not this checkout

    work = tmp_path / "elsewhere"
    work.mkdir()
    out = run(venv / "bin" / "segwise", "demo", "--users", "500", "--days", "30", cwd=work)
    questions = sorted(p for p in EXAMPLES.glob("*.yaml") if p.name != "segwise.yaml")
    assert f"answered {len(questions)} of {len(questions)} questions" in out, out[-2000:]

    menu = run(
        python,
        "-c",
        "import json, segwise; from segwise.server import gallery_examples; "
        "p = segwise.Project.load('demo-data/segwise.yaml'); "
        "print(json.dumps([e['name'] for e in gallery_examples(p)]))",
        cwd=work,
    )
    names = json.loads(menu)
    # the gallery's questions, then the funnels and retention examples one folder down (shipped too)
    analyses = sorted(p.stem for p in [*EXAMPLES.glob("*/*.yaml")] if _is_funnel_or_retention(p))
    assert analyses, "the wheel's menu lists funnels and retention"
    assert sorted(names) == sorted([p.stem for p in questions] + analyses)


def _is_funnel_or_retention(path: Path) -> bool:
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return isinstance(data, dict) and ("funnel" in data or "retention" in data)
