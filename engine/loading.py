"""Reading YAML/JSON files and turning validation failures into clear, located messages."""

from __future__ import annotations

import difflib
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
        hint = None
        if mark and "mapping values" in problem and "://" in text.splitlines()[mark.line]:
            hint = 'quote a URL holding ": " or ending in ":" (warehouse: "duckdb:///:memory:")'
        raise SpecError(f"malformed YAML: {problem}", where=where, hint=hint) from None
    except (ValueError, TypeError, OverflowError) as exc:  # PyYAML builds dates and fails on impossible ones
        raise SpecError(
            f"malformed YAML: {exc}: a date or time that does not exist", where=_bad_scalar(text, file)
        ) from None
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise SpecError(f"a {what} file must hold a mapping (key: value), but it is {kind}", where=str(file))
    return data


def _bad_scalar(text: str, file: Path) -> str:
    """``file:line:col`` of the first scalar PyYAML cannot build (an impossible date), else ``file``."""
    loader = yaml.SafeLoader(text)
    try:
        stack = [loader.get_single_node()]
        while stack:
            node = stack.pop(0)
            if isinstance(node, yaml.ScalarNode):
                try:
                    loader.construct_object(node, deep=True)
                except (ValueError, TypeError, OverflowError, yaml.YAMLError):
                    return f"{file}:{node.start_mark.line + 1}:{node.start_mark.column + 1}"
            elif isinstance(node, yaml.MappingNode):
                stack.extend(item for pair in node.value for item in pair)
            elif isinstance(node, yaml.SequenceNode):
                stack.extend(node.value)
    except yaml.YAMLError:
        pass
    finally:
        loader.dispose()
    return str(file)


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
            message = _friendly(error, model)
            problems.append(f"{location}: {message}" if location else message)
        # Unions report one error per branch; keep each distinct message once.
        unique = list(dict.fromkeys(problems))
        raise SpecError("; ".join(unique), where=origin) from None


def _friendly(error: Any, model: type[BaseModel] | None = None) -> str:
    kind = error["type"]
    message = str(error["msg"])
    if kind == "extra_forbidden":
        reference = "docs/project.md" if model is not None and model.__name__ == "Project" else "docs/queries.md"
        loc = tuple(error["loc"])
        if model is not None and len(loc) == 1:  # a top-level key: say which one was meant
            known = [f.alias or name for name, f in model.model_fields.items()]
            close = difflib.get_close_matches(str(loc[0]), known, n=1, cutoff=0.6)
            if close:
                return f"unknown field; did you mean {close[0]!r}? (see {reference} for the allowed fields)"
            return f"unknown field; allowed: {', '.join(known)} (see {reference})"
        return f"unknown field (check the spelling; see {reference} for the allowed fields)"
    if kind == "missing":
        return "required field is missing"
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    if kind == "literal_error":
        return message.replace("Input should be", "must be one of")
    return message
