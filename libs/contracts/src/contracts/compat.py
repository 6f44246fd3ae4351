"""Schema compatibility: what a consumer of the committed schema would break on.

Incompatible (needs a version bump): a removed property, a property whose type changed or
narrowed, a new required property, a property that became required.
"""

from __future__ import annotations

from typing import Any


def _types(schema: dict[str, Any], defs: dict[str, Any]) -> set[str]:
    if "$ref" in schema:
        return {schema["$ref"].rsplit("/", 1)[-1]}
    if "anyOf" in schema:
        return set().union(*(_types(option, defs) for option in schema["anyOf"]))
    kind = schema.get("type")
    base = set(kind) if isinstance(kind, list) else {kind or "any"}
    if "enum" in schema:
        return {f"enum:{value}" for value in schema["enum"]}
    if "const" in schema:
        return {f"enum:{schema['const']}"}
    return base


def incompatibilities(old: dict[str, Any], new: dict[str, Any], path: str = "") -> list[str]:
    problems: list[str] = []
    old_props = old.get("properties", {})
    new_props = new.get("properties", {})
    old_required = set(old.get("required", []))
    new_required = set(new.get("required", []))
    for name, old_prop in old_props.items():
        where = f"{path}{name}"
        if name not in new_props:
            problems.append(f"{where}: removed")
            continue
        old_types = _types(old_prop, old.get("$defs", {}))
        new_types = _types(new_props[name], new.get("$defs", {}))
        if not old_types <= new_types and "any" not in new_types:
            problems.append(f"{where}: type {sorted(old_types)} -> {sorted(new_types)}")
        if name in new_required and name not in old_required:
            problems.append(f"{where}: became required")
    for name in new_required - set(old_props):
        problems.append(f"{path}{name}: new required property")
    for name, old_def in old.get("$defs", {}).items():
        new_def = new.get("$defs", {}).get(name)
        if new_def is None:
            continue
        problems += incompatibilities(old_def, new_def, f"{path}{name}.")
    return problems
