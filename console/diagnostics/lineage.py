"""Lineage diff: what moved between two model versions — code, data, features, params,
environment or artifact — and which of those changes are material.

Lineage records are plain mappings (``code_commit``, ``data_snapshot_hash``,
``data_description``, ``data_sources``, ``feature_version``, ``feature_importance``,
``params``, ``environment``, ``artifact_hash``, ``validation_metrics``, ``gates``); any key
may be missing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from console.diagnostics.errors import DtypeMismatch

Group = Literal["code", "data", "features", "params", "environment", "artifact"]
GROUPS: tuple[Group, ...] = ("code", "data", "features", "params", "environment", "artifact")
_MISSING = object()


@dataclass(frozen=True)
class LineageChange:
    """One field that differs. ``before``/``after`` are ``None`` when absent on that side."""

    group: Group
    field: str
    before: Any
    after: Any
    material: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "field": self.field,
            "before": self.before,
            "after": self.after,
            "material": self.material,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class LineageDiff:
    """All changes, grouped; ``material`` is true when any change is material."""

    changes: tuple[LineageChange, ...]

    @property
    def material(self) -> bool:
        return any(c.material for c in self.changes)

    @property
    def moved(self) -> tuple[Group, ...]:
        """The groups with at least one change, in the canonical order."""
        return tuple(g for g in GROUPS if any(c.group == g for c in self.changes))

    def group(self, name: Group) -> tuple[LineageChange, ...]:
        return tuple(c for c in self.changes if c.group == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "material": self.material,
            "moved": list(self.moved),
            "groups": {g: [c.to_dict() for c in self.group(g)] for g in GROUPS},
            "material_reasons": [c.reason for c in self.changes if c.material],
        }


def _get(record: Mapping[str, Any], key: str) -> Any:
    value = record.get(key, _MISSING)
    return None if value is _MISSING else value


def _mapping(record: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = record.get(key) or {}
    if not isinstance(value, Mapping):
        raise DtypeMismatch(f"lineage field {key!r} must be a mapping, got {type(value).__name__}")
    return value


def _scalar(
    group: Group,
    key: str,
    a: Mapping,
    b: Mapping,
    out: list,
    *,
    material: bool = False,
    why: str = "",
) -> None:
    before, after = _get(a, key), _get(b, key)
    if before != after:
        out.append(
            LineageChange(
                group, key, before, after, material, why or f"{key} changed: {before!r} → {after!r}"
            )
        )


def _dict_diff(group: Group, prefix: str, a: Mapping, b: Mapping, out: list) -> None:
    for k in sorted(set(a) | set(b), key=str):
        before, after = a.get(k), b.get(k)
        if before != after:
            out.append(
                LineageChange(
                    group,
                    f"{prefix}.{k}",
                    before,
                    after,
                    False,
                    f"{prefix}.{k}: {before!r} → {after!r}",
                )
            )


def _relative_change(before: Any, after: Any) -> float:
    try:
        x, y = float(before), float(after)
    except (TypeError, ValueError):
        return math.inf
    if not (math.isfinite(x) and math.isfinite(y)):
        return math.inf
    if x == 0:
        return 0.0 if y == 0 else math.inf
    return abs(y - x) / abs(x)


def lineage_diff(
    a: Mapping[str, Any], b: Mapping[str, Any], *, importance_change: float = 0.5
) -> LineageDiff:
    """Changes from lineage record ``a`` (older) to ``b`` (newer).

    Material: a data source added or removed; a feature whose importance changed by more
    than ``importance_change`` (relative, 0.5 = 50%; from 0 to anything is infinite) or
    that appeared or disappeared; a gate that passed in ``a`` and fails (or is absent) in
    ``b``; a change of the Python minor version. Everything else is reported but not
    material. Missing keys are tolerated; a field of the wrong shape (``params`` not a
    mapping) raises :class:`DtypeMismatch`."""
    out: list[LineageChange] = []
    _scalar("code", "code_commit", a, b, out)

    _scalar("data", "data_snapshot_hash", a, b, out)
    _scalar("data", "data_description", a, b, out)
    src_a = set(_get(a, "data_sources") or [])
    src_b = set(_get(b, "data_sources") or [])
    for s in sorted(src_b - src_a):
        out.append(LineageChange("data", "data_sources", None, s, True, f"data source added: {s}"))
    for s in sorted(src_a - src_b):
        out.append(
            LineageChange("data", "data_sources", s, None, True, f"data source removed: {s}")
        )

    _scalar("features", "feature_version", a, b, out)
    imp_a, imp_b = _mapping(a, "feature_importance"), _mapping(b, "feature_importance")
    for f in sorted(set(imp_a) | set(imp_b), key=str):
        if f not in imp_b:
            out.append(
                LineageChange(
                    "features",
                    f"feature_importance.{f}",
                    imp_a[f],
                    None,
                    True,
                    f"feature {f} removed",
                )
            )
        elif f not in imp_a:
            out.append(
                LineageChange(
                    "features",
                    f"feature_importance.{f}",
                    None,
                    imp_b[f],
                    True,
                    f"feature {f} added",
                )
            )
        elif imp_a[f] != imp_b[f]:
            rel = _relative_change(imp_a[f], imp_b[f])
            material = rel > importance_change
            shown = "∞" if math.isinf(rel) else f"{rel:.0%}"
            out.append(
                LineageChange(
                    "features",
                    f"feature_importance.{f}",
                    imp_a[f],
                    imp_b[f],
                    material,
                    f"importance of {f} changed by {shown}: {imp_a[f]!r} → {imp_b[f]!r}"
                    + (f" (> {importance_change:.0%})" if material else ""),
                )
            )

    _dict_diff("params", "params", _mapping(a, "params"), _mapping(b, "params"), out)

    env_a, env_b = _mapping(a, "environment"), _mapping(b, "environment")
    py_a, py_b = env_a.get("python"), env_b.get("python")
    if py_a != py_b:
        minor = lambda v: ".".join(str(v).split(".")[:2]) if v is not None else None  # noqa: E731
        material = minor(py_a) != minor(py_b)
        out.append(
            LineageChange(
                "environment",
                "environment.python",
                py_a,
                py_b,
                material,
                f"python {py_a} → {py_b}" + (" (minor version)" if material else ""),
            )
        )
    _dict_diff(
        "environment",
        "environment.packages",
        _mapping(env_a, "packages"),
        _mapping(env_b, "packages"),
        out,
    )
    rest_a = {k: v for k, v in env_a.items() if k not in ("python", "packages")}
    rest_b = {k: v for k, v in env_b.items() if k not in ("python", "packages")}
    _dict_diff("environment", "environment", rest_a, rest_b, out)

    _scalar("artifact", "artifact_hash", a, b, out)
    _dict_diff(
        "artifact",
        "validation_metrics",
        _mapping(a, "validation_metrics"),
        _mapping(b, "validation_metrics"),
        out,
    )
    gates_a, gates_b = _mapping(a, "gates"), _mapping(b, "gates")
    for g in sorted(set(gates_a) | set(gates_b), key=str):
        before, after = gates_a.get(g), gates_b.get(g)
        if before != after:
            material = bool(before) and not after
            out.append(
                LineageChange(
                    "artifact",
                    f"gates.{g}",
                    before,
                    after,
                    material,
                    f"gate {g}: {before!r} → {after!r}"
                    + (" (no longer passes)" if material else ""),
                )
            )
    return LineageDiff(tuple(out))
