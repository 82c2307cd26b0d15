"""Applying JSON Patches (RFC 6902) to JSON values, strictly and in place.

The core applies its own stored patches with this module; the tests check that python-json-patch
gives the same result, so any standard implementation can replay the history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from app.core.errors import PatchError
from app.core.formats.json_value import Json, copy_json, json_equal
from app.core.formats.pointer import split

Operation = Mapping[str, Json]


def apply_patch(document: Json, patch: Iterable[Operation]) -> Json:
    """Apply ``patch`` to ``document`` and return the result.

    Containers of ``document`` are modified in place and values of the patch are inserted by
    reference (the caller passes freshly decoded patches). Raises PatchError when an operation
    does not apply; the document may then be partly patched.
    """
    for operation in patch:
        document = _apply_one(document, operation)
    return document


def _apply_one(document: Json, operation: Operation) -> Json:
    op = operation.get("op")
    path = _string(operation, "path")
    if op == "add":
        return _add(document, split(path), _value(operation))
    if op == "remove":
        document, _ = _remove(document, split(path))
        return document
    if op == "replace":
        return _replace(document, split(path), _value(operation))
    if op == "move":
        source = _string(operation, "from")
        if path != source and path.startswith(source + "/"):
            raise PatchError(f"cannot move {source!r} into its own child {path!r}")
        document, value = _remove(document, split(source))
        return _add(document, split(path), value)
    if op == "copy":
        value = _resolve(document, split(_string(operation, "from")))
        return _add(document, split(path), copy_json(value))
    if op == "test":
        if not json_equal(_resolve(document, split(path)), _value(operation)):
            raise PatchError(f"test failed at {path!r}")
        return document
    raise PatchError(f"unknown operation {op!r}")


def _string(operation: Operation, name: str) -> str:
    value = operation.get(name)
    if not isinstance(value, str):
        raise PatchError(f"operation {dict(operation)!r} lacks a string {name!r}")
    return value


def _value(operation: Operation) -> Json:
    if "value" not in operation:
        raise PatchError(f"operation {dict(operation)!r} lacks a value")
    return operation["value"]


def _index(container: list[Json], token: str, *, adding: bool) -> int:
    if token == "-" and adding:
        return len(container)
    if not (token.isascii() and token.isdigit()) or (token != "0" and token.startswith("0")):
        raise PatchError(f"{token!r} is not an array index")
    index = int(token)
    if index > len(container) or (index == len(container) and not adding):
        raise PatchError(f"array index {index} out of range (length {len(container)})")
    return index


def _resolve(document: Json, tokens: list[str]) -> Json:
    node = document
    for token in tokens:
        if isinstance(node, dict):
            if token not in node:
                raise PatchError(f"no member {token!r}")
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, adding=False)]
        else:
            raise PatchError(f"cannot descend into a {type(node).__name__} at {token!r}")
    return node


def _add(document: Json, tokens: list[str], value: Json) -> Json:
    if not tokens:
        return value
    parent = _resolve(document, tokens[:-1])
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, adding=True), value)
    else:
        raise PatchError(f"cannot add {last!r} to a {type(parent).__name__}")
    return document


def _replace(document: Json, tokens: list[str], value: Json) -> Json:
    """Replace the value at ``tokens`` where it is: a member keeps its place in its object."""
    if not tokens:
        return value
    parent = _resolve(document, tokens[:-1])
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"no member {last!r} to replace")
        parent[last] = value
    elif isinstance(parent, list):
        parent[_index(parent, last, adding=False)] = value
    else:
        raise PatchError(f"cannot replace {last!r} in a {type(parent).__name__}")
    return document


def _remove(document: Json, tokens: list[str]) -> tuple[Json, Json]:
    if not tokens:
        return None, document
    parent = _resolve(document, tokens[:-1])
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"no member {last!r} to remove")
        return document, parent.pop(last)
    if isinstance(parent, list):
        return document, parent.pop(_index(parent, last, adding=False))
    raise PatchError(f"cannot remove {last!r} from a {type(parent).__name__}")
