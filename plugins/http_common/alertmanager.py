"""Alertmanager's v2 API: active alerts (incident triggers) and silences, and the client
built from a plugin's options (the ``prometheus`` plugin's ``alertmanager_url``, or the
``alertmanager`` plugin's ``url``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from console.backends.plugin import PluginContext
from console.backends.types import Alert
from console.errors import BackendError, ConfigError, InvalidInput, NotFound
from console.silences import Silence
from console.silences import parse_matcher as core_matcher
from plugins.http_common.api import (
    ApiError,
    JsonApi,
    auth_from_options,
    timeout_option,
    url_option,
)
from plugins.http_common.samples import alert_from_labels, parse_time


def parse_matcher(text: str) -> dict[str, Any]:
    """``alertname=ModelErrorRateHigh``, ``model!=churn``, ``severity=~"crit.*"`` → an
    Alertmanager matcher object (parsed and validated by ``console.silences``)."""
    m = core_matcher(text)
    return {
        "name": m.name,
        "value": m.value,
        "isRegex": m.op in ("=~", "!~"),
        "isEqual": m.op in ("=", "=~"),
    }


def format_matcher(m: dict[str, Any]) -> str:
    op = {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}[
        (bool(m.get("isRegex")), bool(m.get("isEqual", True)))
    ]
    return f'{m.get("name")}{op}"{m.get("value")}"'


class AlertmanagerClient:
    def __init__(
        self, api: JsonApi, *, model_label: str = "model", include_silenced: bool = False
    ) -> None:
        self.api = api
        self.model_label = model_label
        self.include_silenced = include_silenced

    def close(self) -> None:
        self.api.close()

    def alerts(self) -> list[Alert]:
        """Active (firing, not resolved) alerts; silenced and inhibited ones are left out
        unless ``include_silenced``. Fingerprints are Alertmanager's own."""
        params = {
            "active": "true",
            "silenced": str(self.include_silenced).lower(),
            "inhibited": str(self.include_silenced).lower(),
            "unprocessed": "true",
        }
        body = self.api.get("/api/v2/alerts", params)
        if not isinstance(body, list):
            raise BackendError(
                "Alertmanager answered /api/v2/alerts with something that is not a list of alerts"
            )
        out = []
        for a in body:
            if not isinstance(a, dict) or not isinstance(a.get("labels"), dict):
                continue
            ends = parse_time(a.get("endsAt"))
            state = "resolved" if ends and ends <= datetime.now(UTC) else "firing"
            out.append(
                alert_from_labels(
                    a["labels"],
                    a.get("annotations") or {},
                    starts_at=parse_time(a.get("startsAt")),
                    model_label=self.model_label,
                    state=state,
                    value=(a.get("annotations") or {}).get("value"),
                    fp=a.get("fingerprint"),
                )
            )
        return [a for a in out if a.state == "firing"]

    def create_silence(
        self,
        matchers: list[str] | tuple[str, ...],
        *,
        author: str,
        comment: str,
        duration: timedelta,
        starts_at: datetime | None = None,
    ) -> str:
        """Silence alerts matching all ``matchers`` for ``duration``; returns its id."""
        if not matchers:
            raise InvalidInput(
                "a silence needs at least one matcher",
                hint="e.g. --match alertname=ModelErrorRateHigh",
            )
        if duration.total_seconds() <= 0:
            raise InvalidInput("a silence needs a positive duration")
        if not comment.strip() or not author.strip():
            raise InvalidInput("a silence needs an author and a comment")
        start = starts_at or datetime.now(UTC)
        body = self.api.post(
            "/api/v2/silences",
            {
                "matchers": [parse_matcher(m) for m in matchers],
                "startsAt": start.isoformat(),
                "endsAt": (start + duration).isoformat(),
                "createdBy": author,
                "comment": comment,
            },
        )
        sid = body.get("silenceID") if isinstance(body, dict) else None
        if not sid:
            raise BackendError(f"Alertmanager created no silence id: {body!r}")
        return str(sid)

    def expire_silence(self, silence_id: str) -> None:
        try:
            self.api.delete(f"/api/v2/silence/{silence_id}")
        except ApiError as exc:
            if exc.status == 404:
                raise NotFound(f"no silence {silence_id!r} in Alertmanager") from None
            raise

    def silences(self) -> list[Silence]:
        body = self.api.get("/api/v2/silences")
        out = []
        for s in body if isinstance(body, list) else []:
            out.append(
                Silence(
                    id=str(s.get("id")),
                    matchers=tuple(format_matcher(m) for m in s.get("matchers") or []),
                    starts_at=parse_time(s.get("startsAt")),
                    ends_at=parse_time(s.get("endsAt")),
                    created_by=str(s.get("createdBy") or ""),
                    comment=str(s.get("comment") or ""),
                    state=str((s.get("status") or {}).get("state") or ""),
                )
            )
        return sorted(out, key=lambda s: s.starts_at or datetime.min.replace(tzinfo=UTC))


def alertmanager_from_options(
    ctx: PluginContext,
    options: Mapping[str, Any],
    *,
    url_key: str,
    prefix: str,
    role: str = "metrics",
    required: bool = False,
) -> AlertmanagerClient | None:
    """An AlertmanagerClient for ``options[url_key]`` (auth options named ``prefix`` +
    token_env / username_env / password_env); None when the URL is not set and not
    ``required``."""
    url = url_option(ctx, options, role, url_key, required=required)
    if url is None:
        return None
    auth_opts = {
        k[len(prefix) :]: v
        for k, v in options.items()
        if k.startswith(prefix) and k.endswith("_env")
    }
    if not auth_opts:  # same credentials as the main server
        auth_opts = {k: v for k, v in options.items() if k.endswith("_env")}
    include = options.get("include_silenced", False)
    if not isinstance(include, bool):
        raise ConfigError(
            ctx.config_path,
            f"env.{ctx.env_name}.{role}.include_silenced",
            "expected true or false",
        )
    return AlertmanagerClient(
        JsonApi(
            "Alertmanager",
            url,
            timeout=timeout_option(ctx, options, role),
            auth=auth_from_options(ctx, auth_opts, role),
        ),
        model_label=str(options.get("model_label", "model")),
        include_silenced=include,
    )
