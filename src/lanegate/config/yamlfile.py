"""Reading YAML while remembering on which line each key stands, so errors can point at it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from lanegate.config.errors import Problem

LineMap = dict[str, int]


def _walk(node: yaml.Node, path: str, lines: LineMap) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = f"{path}.{key}" if path else key
            lines[child] = key_node.start_mark.line + 1
            _walk(value_node, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = f"{path}[{index}]"
            lines[child] = item.start_mark.line + 1
            _walk(item, child, lines)


def read_yaml(path: Path, text: str | None = None) -> tuple[Any, LineMap, list[Problem]]:
    """Parse ``path`` (or ``text`` labelled with it) into plain data plus a key-path -> line map."""
    label = str(path)
    try:
        source = path.read_text(encoding="utf-8") if text is None else text
    except (OSError, UnicodeDecodeError) as exc:
        return None, {}, [Problem(label, "<file>", f"cannot read the file ({exc.__class__.__name__}: {exc})")]
    try:
        node = yaml.compose(source, Loader=yaml.SafeLoader)
        data = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        return None, {}, [Problem(label, "<yaml>", f"not valid YAML: {reason}; fix the syntax", line)]
    lines: LineMap = {}
    if node is not None:
        _walk(node, "", lines)
    return data, lines, []


def loc_to_key(loc: tuple[int | str, ...]) -> str:
    """Turn a pydantic error location into the dotted key people see in their YAML."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out = f"{out}.{part}" if out else str(part)
    return out or "<root>"


def line_for(lines: LineMap, key: str) -> int | None:
    """The line of ``key`` or of its nearest declared parent."""
    while key:
        if key in lines:
            return lines[key]
        cut = max(key.rfind("."), key.rfind("["))
        key = key[:cut] if cut > 0 else ""
    return None


def validation_problems(label: str, lines: LineMap, exc: ValidationError, prefix: str = "",
                        reference: str = "docs/policy-packs.md") -> list[Problem]:
    """One problem per validation error of the document ``label``, at its key (under ``prefix``) and line;
    ``reference`` is the document that lists the valid keys."""
    problems = []
    for err in exc.errors(include_url=False):
        key = loc_to_key(tuple(err["loc"]))
        key = f"{prefix}.{key}" if prefix and key != "<root>" else (prefix or key)
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = f"unknown key; remove it or fix its spelling (see {reference})"
        elif err["type"] == "missing":
            message = "required key is missing; add it"
        problems.append(Problem(label, key, message, line_for(lines, key)))
    return problems
