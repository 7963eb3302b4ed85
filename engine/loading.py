"""Reading YAML/JSON files and turning validation failures into clear, located messages."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from .errors import SpecError

M = TypeVar("M", bound=BaseModel)


def load_mapping(path: str | Path, what: str) -> dict[str, Any]:
    """Read a YAML or JSON file holding one mapping; errors name the file, line and column."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{what} file not found", where=str(file)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read {what} file: {exc}", where=str(file)) from None
    try:
        data = json.loads(text) if file.suffix.lower() == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"malformed JSON: {exc.msg}", where=f"{file}:{exc.lineno}:{exc.colno}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else str(file)
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError(f"malformed YAML: {problem}", where=where) from None
    except (ValueError, TypeError, OverflowError) as exc:  # PyYAML builds dates and fails on impossible ones
        raise SpecError(f"malformed YAML: {exc} (a date or time that does not exist?)", where=str(file)) from None
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise SpecError(f"a {what} file must hold a mapping (key: value), but it is {kind}", where=str(file))
    return data


def validate_model(
    model: type[M],
    data: dict[str, Any],
    origin: str,
    describe: Callable[[tuple[str | int, ...], Any], str],
) -> M:
    """Validate ``data`` into ``model``; a failure becomes one SpecError listing every problem."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            location = describe(tuple(error["loc"]), data)
            message = _friendly(error)
            problems.append(f"{location}: {message}" if location else message)
        # Unions report one error per branch; keep each distinct message once.
        unique = list(dict.fromkeys(problems))
        raise SpecError("; ".join(unique), where=origin) from None


def _friendly(error: Any) -> str:
    kind = error["type"]
    message = str(error["msg"])
    if kind == "extra_forbidden":
        return "unknown field (check the spelling; see docs/queries.md for the allowed fields)"
    if kind == "missing":
        return "required field is missing"
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    if kind == "literal_error":
        return message.replace("Input should be", "must be one of")
    return message
