"""Run mypy on the ``segwise`` package as installed (its folders are mapped, see pyproject.toml).

mypy cannot follow setuptools' ``package-dir`` mapping of an editable install, so this builds a
throwaway tree of symlinks shaped like the installed package and checks that.

    python -m tests.typecheck
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAPPING = {"segwise": "engine", "segwise/adapters": "adapters", "segwise/plugins": "plugins"}


def build_view(target: Path) -> None:
    for package, folder in MAPPING.items():
        destination = target / package
        destination.mkdir(parents=True, exist_ok=True)
        for source in (ROOT / folder).iterdir():
            if source.name == "__pycache__" or (destination / source.name).exists():
                continue
            if source.suffix == ".py" or (source.is_dir() and (source / "__init__.py").exists()):
                (destination / source.name).symlink_to(source)


def run_mypy() -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as tmp:
        build_view(Path(tmp))
        return subprocess.run(
            [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), "-p", "segwise"],
            cwd=tmp,
            env={"MYPYPATH": tmp, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
        )


if __name__ == "__main__":
    result = run_mypy()
    print(result.stdout + result.stderr, end="")
    sys.exit(result.returncode)
