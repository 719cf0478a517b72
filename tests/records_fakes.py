"""Fake artifact records for the tests, built from the records' schemas (hlm.records):
the smallest valid record of a kind, with the fields a test sets."""
from __future__ import annotations

import copy
from typing import Any

import jsonschema

from hlm import records

_MISSING = object()


def minimal(record_kind: str, /, **fields) -> dict:
    """The smallest valid record of `kind` with `fields` set (nested dicts are completed:
    ``status={"state": "singular"}`` keeps the other status keys). Validated."""
    record = _fill(records.schema(record_kind), copy.deepcopy(fields), fields)
    return records.validate(record_kind, record, where=f"minimal({record_kind!r})")


def _default(schema: dict) -> Any:
    for key in ("default", "const"):
        if key in schema:
            return copy.deepcopy(schema[key])
    if "enum" in schema:
        return copy.deepcopy(schema["enum"][0])
    if "anyOf" in schema:
        return _fill(schema["anyOf"][0], _MISSING, _MISSING)
    kinds = schema.get("type", "object")
    kinds = [k for k in (kinds if isinstance(kinds, list) else [kinds]) if k != "null"] or ["null"]
    first = kinds[0]
    if first == "array":
        return [_fill(schema.get("items", {}), _MISSING, _MISSING) for _ in range(schema.get("minItems", 0))]
    return {"object": {}, "string": "", "number": 0.0, "integer": max(0, schema.get("minimum", 0)),
            "boolean": False, "null": None}[first]


def _given(given: Any, key: str) -> Any:
    return given.get(key, _MISSING) if isinstance(given, dict) else _MISSING


def _fill(schema: dict, value: Any, given: Any, force: bool = False) -> Any:
    """Complete `value` to satisfy `schema`; values in `given` (the caller's) are kept, defaults
    may be replaced by what a conditional branch requires (`force`)."""
    if value is _MISSING:
        value = _default(schema)
    elif force and given is _MISSING and "const" in schema:
        value = copy.deepcopy(schema["const"])
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                value[key] = _fill(props.get(key, {}), _MISSING, _MISSING)
        for key, sub in list(value.items()):
            if key in props:
                value[key] = _fill(props[key], sub, _given(given, key), force)
            elif isinstance(schema.get("additionalProperties"), dict) and isinstance(sub, dict):
                value[key] = _fill(schema["additionalProperties"], sub, _given(given, key), force)
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        gl = given if isinstance(given, list) else [_MISSING] * len(value)
        value = [_fill(schema["items"], v, g, force) for v, g in zip(value, gl)]
    branches = list(schema.get("allOf", []))
    if "if" in schema:
        branches.append(schema)
    for cond in branches:
        branch = cond.get("then" if jsonschema.Draft202012Validator(cond["if"]).is_valid(value) else "else")
        if branch is not None:  # a key it requires may be described by the enclosing schema
            props = {**schema.get("properties", {}), **branch.get("properties", {})}
            value = _fill({**branch, "properties": props}, value, given, force=True)
    return value
