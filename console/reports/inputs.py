"""Reading the files the cost reports take: a models CSV and a costs TOML.

Errors name the file, the row or key, and what is wrong (``InvalidInput``, exit code 7).
"""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path
from typing import Any

from console.errors import InvalidInput
from console.reports.costs import ModelEconomics, checked_number

MODEL_COLUMNS = ("model", "serving_pattern", "monthly_cost", "monthly_value")


def _read(path: Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read: {exc.strerror or exc}") from None


def parse_money(text: str) -> float:
    """A money cell as people write it: ``3200``, ``3,200.50``, ``$3,200``, ``3 200``."""
    cleaned = text.strip().replace(",", "").replace("_", "").replace(" ", "")
    cleaned = cleaned.lstrip("$€£")
    return float(cleaned)


def load_models_csv(path: Path) -> list[ModelEconomics]:
    """Rows of ``model, serving_pattern, monthly_cost, monthly_value`` (header required,
    extra columns ignored, blank lines skipped). A missing column or a cell that is not a
    non-negative number raises ``InvalidInput`` naming the line."""
    reader = csv.DictReader(_read(path).splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in MODEL_COLUMNS if c not in header]
    if missing:
        raise InvalidInput(
            f"{path}: missing column(s) {', '.join(missing)}",
            hint=f"the header must name: {', '.join(MODEL_COLUMNS)}",
        )
    rows: list[ModelEconomics] = []
    for lineno, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k}
        if not any(row.values()):
            continue
        if not row.get("model"):
            raise InvalidInput(f"{path}: line {lineno}: model is empty")
        nums = {}
        for col in ("monthly_cost", "monthly_value"):
            try:
                nums[col] = checked_number(f"{path}: line {lineno}: {col}", parse_money(row[col]))
            except ValueError:
                raise InvalidInput(
                    f"{path}: line {lineno}: {col} is not a number: {row[col]!r}"
                ) from None
        rows.append(
            ModelEconomics(
                row["model"],
                nums["monthly_cost"],
                nums["monthly_value"],
                row.get("serving_pattern", ""),
            )
        )
    return rows


def load_costs_toml(path: Path) -> dict[str, Any]:
    """A TCO file::

        model = "churn"                 # optional
        annual_value = 2_100_000        # optional; money per year the model brings
        [monthly]                       # category = money per month
        inference_compute = 3200
        [annual]                        # optional; category = money per year
        audit = 6000

    Returns keyword arguments for ``costs.tco``."""
    try:
        raw = tomllib.loads(_read(path))
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{path}: not valid TOML: {exc}") from None
    known = {"model", "annual_value", "monthly", "annual"}
    for key in raw:
        if key not in known:
            raise InvalidInput(
                f"{path}: unknown key {key!r}", hint=f"known: {', '.join(sorted(known))}"
            )
    monthly = raw.get("monthly", {})
    annual = raw.get("annual", {})
    for name, table in (("monthly", monthly), ("annual", annual)):
        if not isinstance(table, dict):
            raise InvalidInput(f"{path}: {name} must be a table of category = amount")
        for cat, amount in table.items():
            if isinstance(amount, bool) or not isinstance(amount, int | float):
                raise InvalidInput(f"{path}: {name}.{cat} must be a number, got {amount!r}")
    if not monthly and not annual:
        raise InvalidInput(f"{path}: no costs", hint="add a [monthly] table: category = amount")
    value = raw.get("annual_value")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise InvalidInput(f"{path}: annual_value must be a number, got {value!r}")
    return {
        "monthly": monthly,
        "annual": annual,
        "annual_value": value,
        "model": str(raw.get("model", "")),
    }
