"""Where a version's reference profile lives: with the version in the registry, where every
console of the team reads it — an MLflow artifact (``mlflow-artifacts:/rollbook/<model>/
<version>/profile.json``, capability ``documents``) named by the version's ``rollbook.profile``
tag — and a JSON file per (environment, model, version) under the data directory, which is
the whole story for a registry that keeps no documents (the embedded world) and a cache
otherwise: a console that finds no local file reads the registry's copy and keeps it.

The profile is small (bins, a ~2,000-cell grid and category counts per column), so one
document per version is enough; reading it never touches the reference data again.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from console.diagnostics.pushdown import LogProfile
from console.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from console.backends.interfaces import Registry

TAG = "rollbook.profile"


def _safe(part: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", part) or "_"


def profile_path(data_dir: Path, env: str, model: str, version: str) -> Path:
    return data_dir / "profiles" / _safe(env) / _safe(model) / f"{_safe(version)}.json"


def save_profile(data_dir: Path, env: str, model: str, version: str, profile: LogProfile) -> Path:
    """Write ``profile`` atomically (a temp file renamed over the old one)."""
    path = profile_path(data_dir, env, model, version)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(profile.to_json())
    tmp.replace(path)
    return path


def publish_profile(
    registry: Registry, data_dir: Path, env: str, model: str, version: str, profile: LogProfile
) -> tuple[Path, str | None]:
    """Keep ``profile`` with the version: the local file, the registry's copy where it keeps
    documents, and the ``rollbook.profile`` tag naming the copy (else the local file) where it
    takes tags. ``(local path, the registry copy's URI or None)``."""
    path = save_profile(data_dir, env, model, version, profile)
    uri = registry.store_document(model, version, "profile.json", path.read_bytes())
    if "tags" in registry.capabilities:
        registry.tag_version(model, version, TAG, uri or path.as_uri())
    return path, uri


def load_profile(
    data_dir: Path, env: str, model: str, version: str, registry: Registry | None = None
) -> LogProfile:
    """The stored profile — the local file, else (with ``registry``) the copy the version's
    ``rollbook.profile`` tag names, kept locally from then on — or :class:`NotFound` naming
    the command that builds it."""
    path = profile_path(data_dir, env, model, version)
    if not path.exists() and registry is not None and "documents" in registry.capabilities:
        uri = registry.version(model, version).tags.get(TAG, "")
        if uri and not uri.startswith("file:"):
            profile = LogProfile.from_json(registry.read_document(uri).decode("utf-8"))
            save_profile(data_dir, env, model, version, profile)
            return profile
    if not path.exists():
        raise NotFound(
            f"no reference profile for {model} version {version}",
            hint=f"rollbook profile build log --model {model} --version {version} "
            "--window START/END  (or a training-data file instead of `log`)",
        )
    return LogProfile.from_json(path.read_text())


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")


def parse_window(text: str, now: datetime) -> tuple[datetime, datetime]:
    """``START/END`` (ISO dates or times, UTC unless they say otherwise; a date is its
    midnight) or a duration back from ``now`` (``90s``, ``60m``, ``6h``, ``7d``)."""
    m = _DURATION.match(text)
    if m:
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[m.group(2)]
        return now - timedelta(**{unit: float(m.group(1))}), now
    if "/" not in text:
        raise InvalidInput(
            f"bad window {text!r}", hint="START/END (2026-11-01/2026-11-08) or a duration (60m)"
        )
    a, b = (part.strip() for part in text.split("/", 1))
    try:
        start, end = (datetime.fromisoformat(x) for x in (a, b))
    except ValueError as exc:
        raise InvalidInput(f"bad window {text!r}: {exc}") from exc
    start, end = (t if t.tzinfo else t.replace(tzinfo=UTC) for t in (start, end))
    if not start < end:
        raise InvalidInput(f"bad window {text!r}: the start must come before the end")
    return start, end
