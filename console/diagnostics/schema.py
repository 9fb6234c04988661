"""Schema diff between a reference and a current frame, with rename suggestions.

An upstream rename does not fail a pipeline: the expected column goes missing, a new one
appears and the feature built from it turns null. A rename suggestion pairs a missing column
with an added one when their *names* and their *values* are alike, and says why.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

import numpy as np
import pandas as pd

from console.diagnostics.profile import is_numeric_series, numeric_values
from console.diagnostics.results import finite
from console.diagnostics.twosample import jensen_shannon, ks_statistic

SAMPLE = 20_000  # values per column used to compare distributions


@dataclass(frozen=True)
class TypeChange:
    name: str
    reference: str
    current: str
    family_changed: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "reference": self.reference,
            "current": self.current,
            "family_changed": self.family_changed,
        }


@dataclass(frozen=True)
class RenameSuggestion:
    """``source`` (missing) probably became ``target`` (added). ``confidence`` in [0, 1] is
    the mean of the name similarity and the value-distribution similarity (the name alone,
    halved, when the values cannot be compared)."""

    source: str
    target: str
    confidence: float
    reason: str
    name_similarity: float
    distribution_similarity: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.target,
            "confidence": round(self.confidence, 4),
            "reason": self.reason,
            "name_similarity": round(self.name_similarity, 4),
            "distribution_similarity": finite(self.distribution_similarity),
        }


@dataclass(frozen=True)
class SchemaDiff:
    missing: tuple[str, ...]
    added: tuple[str, ...]
    type_changed: tuple[TypeChange, ...]
    renames: tuple[RenameSuggestion, ...]

    @property
    def clean(self) -> bool:
        return not (self.missing or self.added or self.type_changed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "missing": list(self.missing),
            "added": list(self.added),
            "type_changed": [t.to_dict() for t in self.type_changed],
            "renames": [r.to_dict() for r in self.renames],
        }


def _tokens(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [t for t in re.split(r"[^0-9a-zA-Z]+", spaced.lower()) if t]


def name_similarity(a: str, b: str) -> tuple[float, str]:
    """Similarity of two column names in [0, 1] and a phrase saying how they are alike.

    The larger of the word-set overlap (Jaccard of the words split on ``_``, ``-``, spaces
    and camelCase) and the character similarity (difflib ratio) of the normalised names."""
    ta, tb = _tokens(a), _tokens(b)
    sa, sb = set(ta), set(tb)
    jaccard = len(sa & sb) / len(sa | sb) if sa | sb else 0.0
    chars = SequenceMatcher(None, "_".join(ta), "_".join(tb)).ratio()
    if jaccard == 1.0 and ta != tb:
        return 1.0, "same words in a different order"
    if jaccard >= chars:
        shared = ", ".join(sorted(sa & sb)) or "none"
        return jaccard, f"{len(sa & sb)} of {len(sa | sb)} words shared ({shared})"
    return chars, f"names {chars:.0%} alike character by character"


def _family(series: pd.Series) -> str:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    return "text"


def _sample(values: np.ndarray) -> np.ndarray:
    if values.shape[0] <= SAMPLE:
        return values
    idx = np.random.default_rng(0).choice(values.shape[0], SAMPLE, replace=False)
    return values[idx]


def distribution_similarity(a: pd.Series, b: pd.Series) -> tuple[float | None, str]:
    """How alike two columns' values are, in [0, 1], and a phrase saying so.

    Numbers: 1 − KS statistic (on up to 20,000 sampled finite values each). Anything else:
    1 − Jensen–Shannon distance over the union of values. ``None`` when one side has no
    usable values or one is numeric and the other not."""
    if is_numeric_series(a) != is_numeric_series(b):
        return None, "one is numeric, the other is not"
    if is_numeric_series(a):
        va, vb = numeric_values(a), numeric_values(b)
        va = np.sort(_sample(va[np.isfinite(va)]))
        vb = np.sort(_sample(vb[np.isfinite(vb)]))
        if va.shape[0] == 0 or vb.shape[0] == 0:
            return None, "no non-null values to compare"
        ks = ks_statistic(va, vb)
        return 1.0 - ks, f"value distributions {'match' if ks < 0.05 else 'differ'} (KS {ks:.3f})"
    ca = a.dropna().astype(str).value_counts()
    cb = b.dropna().astype(str).value_counts()
    if ca.empty or cb.empty:
        return None, "no non-null values to compare"
    table = pd.concat([ca, cb], axis=1, join="outer").fillna(0).to_numpy(np.float64)
    js = jensen_shannon(table[:, 0], table[:, 1])
    return 1.0 - js, f"value frequencies {'match' if js < 0.1 else 'differ'} (JS {js:.3f})"


def schema_diff(
    reference: pd.DataFrame, current: pd.DataFrame, *, min_confidence: float = 0.6
) -> SchemaDiff:
    """Columns missing from ``current``, added to it, and changed in type, plus rename
    suggestions (each missing column paired with at most one added column, best first,
    kept when the confidence reaches ``min_confidence``). A type change is any change of
    dtype; ``family_changed`` marks a change of kind (number/text/bool/datetime) rather than
    width (int64 → float64 often only means nulls appeared). Works on empty frames: the
    columns are compared, the values are not."""
    ref_cols = [str(c) for c in reference.columns]
    cur_cols = [str(c) for c in current.columns]
    missing = tuple(c for c in ref_cols if c not in set(cur_cols))
    added = tuple(c for c in cur_cols if c not in set(ref_cols))
    changed = tuple(
        TypeChange(
            c,
            str(reference[c].dtype),
            str(current[c].dtype),
            _family(reference[c]) != _family(current[c]),
        )
        for c in ref_cols
        if c in set(cur_cols) and str(reference[c].dtype) != str(current[c].dtype)
    )
    renames = suggest_renames(
        missing,
        added,
        lambda src, dst: distribution_similarity(reference[src], current[dst]),
        min_confidence,
    )
    return SchemaDiff(missing, added, changed, renames)


def suggest_renames(
    missing: Sequence[str],
    added: Sequence[str],
    values_similarity: Callable[[str, str], tuple[float | None, str]],
    min_confidence: float,
) -> tuple[RenameSuggestion, ...]:
    """Each missing column paired with at most one added column, best first: confidence is
    the mean of the names' and the values' similarity (the names' alone, halved, when the
    values cannot be compared), kept from ``min_confidence``. ``values_similarity(src,
    dst)`` is ``(similarity in [0, 1] or None, why)``, computed wherever the data lives."""
    candidates = []
    for src in missing:
        for dst in added:
            name_sim, name_why = name_similarity(src, dst)
            dist_sim, dist_why = values_similarity(src, dst)
            confidence = name_sim / 2 if dist_sim is None else (name_sim + dist_sim) / 2
            if confidence >= min_confidence:
                reason = f"{src!r} is missing and {dst!r} is new: {name_why}; {dist_why}"
                candidates.append(
                    RenameSuggestion(src, dst, confidence, reason, name_sim, dist_sim)
                )
    renames, used_src, used_dst = [], set(), set()
    for cand in sorted(candidates, key=lambda c: (-c.confidence, c.source, c.target)):
        if cand.source not in used_src and cand.target not in used_dst:
            renames.append(cand)
            used_src.add(cand.source)
            used_dst.add(cand.target)
    return tuple(renames)
