"""Signals as PromQL templates.

A template is PromQL with three placeholders, filled in per query:

- ``$sel``  — label matchers for the model (and version), *with* a trailing comma, or empty
  for a fleet-wide query; put it last inside the braces: ``{code=~"5..",$sel}``;
- ``$by``   — the grouping labels: ``model`` or ``model, version`` (use ``sum by ($by)``);
- ``$window`` — the rate window (option ``window``, default ``5m``);
- ``$feature`` — for ``null_rate:<feature>`` signals, the feature name;
- ``$handlers`` — (``http`` preset) the regex of request handlers that are *not*
  predictions (option ``http_exclude_handlers``), so health checks, metric scrapes and docs
  neither add to a model's request rate nor dilute its error rate.

So the whole fleet is one query per signal (``… by (model, version)``), not one per model.

The defaults follow the metric names of a model server that exports
``model_requests_total``, ``model_request_errors_total``,
``model_request_duration_seconds`` (histogram), ``model_prediction_score`` (histogram or
summary), ``model_predictions_positive_total``, ``model_output_unique_ratio`` and
``model_feature_null_ratio{feature=…}``, each labelled ``model`` and ``version`` (from the
exporter or from the scrape config's target labels). ``preset = "http"`` switches request
rate, errors and latency to the common ``http_requests_total{status}`` /
``http_request_duration_seconds`` names (as prometheus-fastapi-instrumentator and most HTTP
exporters write them: ``status`` may be ``500`` or grouped ``5xx``; ``5..`` matches both),
counting prediction handlers only. Any signal can be overridden, or disabled with "".
"""

from __future__ import annotations

import re
from string import Template

RATE = "sum by ($by) (rate(model_requests_total{$sel}[$window]))"
ERRORS = "sum by ($by) (rate(model_request_errors_total{$sel}[$window]))"
SCORES = "sum by ($by) (rate(model_prediction_score_count{$sel}[$window]))"


def _quantile(
    q: float, metric: str = "model_request_duration_seconds_bucket", *, handlers: bool = False
) -> str:
    sel = 'handler!~"$handlers",$sel' if handlers else "$sel"
    return f"histogram_quantile({q}, sum by ($by, le) (rate({metric}{{{sel}}}[$window]))) * 1000"


DEFAULT_SIGNALS: dict[str, str] = {
    "request_rate": f"{RATE} * 60",  # requests per minute
    # errors or 0 when the error counter has no series yet, so a clean model reads 0, not
    # "no data"
    "error_rate": f"({ERRORS} or {RATE} * 0) / {RATE}",
    "latency_p50_ms": _quantile(0.5),
    "latency_p95_ms": _quantile(0.95),
    "latency_p99_ms": _quantile(0.99),
    "prediction_mean": "sum by ($by) (rate(model_prediction_score_sum{$sel}[$window])) / " + SCORES,
    "positive_rate": "(sum by ($by) (rate(model_predictions_positive_total{$sel}[$window])) "
    f"or {SCORES} * 0) / {SCORES}",
    "output_diversity": "avg by ($by) (model_output_unique_ratio{$sel})",
    "null_rate": 'max by ($by) (model_feature_null_ratio{feature="$feature",$sel})',
}

#: Handlers that are not predictions, for the http preset (a full-match regex).
DEFAULT_EXCLUDE_HANDLERS = (
    r"/health.*|/healthz|/ready.*|/live.*|/metrics|/docs.*|/redoc.*|/openapi\.json|/favicon\.ico"
)
_HTTP_RATE = 'sum by ($by) (rate(http_requests_total{handler!~"$handlers",$sel}[$window]))'
_HTTP_LATENCY = "http_request_duration_seconds_bucket"
PRESETS: dict[str, dict[str, str]] = {
    "model": {},
    "http": {
        "request_rate": f"{_HTTP_RATE} * 60",
        "error_rate": "(sum by ($by) (rate(http_requests_total"
        '{status=~"5..",handler!~"$handlers",$sel}'
        f"[$window])) or {_HTTP_RATE} * 0) / {_HTTP_RATE}",
        "latency_p50_ms": _quantile(0.5, _HTTP_LATENCY, handlers=True),
        "latency_p95_ms": _quantile(0.95, _HTTP_LATENCY, handlers=True),
        "latency_p99_ms": _quantile(0.99, _HTTP_LATENCY, handlers=True),
    },
}

_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def valid_label(name: str) -> bool:
    return bool(_LABEL.match(name))


def quote(value: str) -> str:
    """A PromQL string literal's inside (backslashes and double quotes escaped)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def template_key(signal: str) -> tuple[str, str | None]:
    """``"null_rate:avg_order_value_90d"`` → ``("null_rate", "avg_order_value_90d")``."""
    name, sep, arg = signal.partition(":")
    return (name, arg) if sep else (signal, None)


def render(
    template: str,
    *,
    by: tuple[str, ...],
    matchers: dict[str, str],
    window: str,
    feature: str | None = None,
    handlers: str = DEFAULT_EXCLUDE_HANDLERS,
) -> str:
    sel = "".join(f'{k}="{quote(v)}",' for k, v in matchers.items())
    return Template(template).safe_substitute(
        sel=sel,
        by=", ".join(by),
        window=window,
        feature=quote(feature or ""),
        handlers=quote(handlers),
    )
