"""A Triton config.pbtxt read back: there is no Triton proto here for protobuf's text_format, so a small
reader of the protobuf text format, strict enough that a malformed file fails the tests."""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(r'\s*(?:#[^\n]*\n?\s*)*("(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"#]+)')


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            break
        out.append(match.group(1))
        pos = match.end()
    if text[pos:].strip() and not text[pos:].strip().startswith("#"):
        raise ValueError(f"cannot read config.pbtxt at {text[pos:pos + 40]!r}")
    return out


def _scalar(token: str) -> object:
    if token.startswith('"'):
        return re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), token[1:-1])
    if re.fullmatch(r"-?\d+", token):
        return int(token)
    return token  # an enum (TYPE_FP32, KIND_GPU) or true/false


def read_pbtxt(text: str) -> dict[str, list[Any]]:
    """Fields to lists of values (every field may repeat); messages become dicts of the same kind."""
    tokens = _tokens(text)
    pos = 0

    def value() -> object:
        nonlocal pos
        token = tokens[pos]
        pos += 1
        if token == "{":
            return message("}")
        if token == "[":
            items: list[object] = []
            while tokens[pos] != "]":
                items.append(value())
                pos += 1 if tokens[pos] == "," else 0
            pos += 1
            return items
        return _scalar(token)

    def message(end: str | None) -> dict[str, list[Any]]:
        nonlocal pos
        fields: dict[str, list[Any]] = {}
        while pos < len(tokens) and tokens[pos] != end:
            name = tokens[pos]
            pos += 1
            if tokens[pos] == ":":
                pos += 1
            found = value()
            fields.setdefault(name, []).extend(found if isinstance(found, list) and name != "dims" else [found])
        pos += 1
        return fields

    return message(None)
