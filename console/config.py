"""Layered, typed configuration.

Where things live:
- ``$ROLLBOOK_HOME/config.toml`` and data under ``$ROLLBOOK_HOME/data`` when ``ROLLBOOK_HOME``
  is set (tests and demos point it at a temp dir);
- otherwise the user's config dir (platformdirs) for ``config.toml`` and the user's data dir
  for data.

Environments pick one plugin per role::

    default_env = "demo"
    [env.demo]
    registry = "embedded"            # short form: just the plugin name
    [env.prod.registry]              # long form: plugin name plus its options
    plugin = "mlflow"
    url = "https://mlflow.internal"
    token_env = "MLFLOW_TOKEN"       # secrets: the *name* of an environment variable

Precedence: built-in defaults < config file < ``ROLLBOOK_*`` environment variables < CLI flags.
A bad config raises ``ConfigError`` naming the file, the key and what is wrong.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.backends.interfaces import ROLES
from console.errors import ConfigError
from console.notify.settings import NotifySettings, parse_notify
from console.store.open import BACKENDS as STORE_BACKENDS
from console.store.open import StoreConfig

APP = "rollbook"
DEMO_ENV = "demo"
SECRET_WORDS = ("token", "password", "secret", "api_key", "apikey")

#: How an alert's ``severity`` label becomes an incident's severity; the runbook's own default
#: applies when it is more severe, or when the label is not in the map.
DEFAULT_SEVERITY: dict[str, str] = {
    "page": "SEV1",
    "critical": "SEV2",
    "error": "SEV2",
    "warning": "SEV3",
    "info": "SEV4",
}

DEFAULT_THRESHOLDS: dict[str, float] = {
    "psi_moderate": 0.1,
    "psi_significant": 0.2,
    "null_rate_warn": 0.02,
    "null_rate_breaker": 0.05,
    "positive_rate_pp": 10.0,
    "prediction_z": 3.0,
    "output_diversity_min": 0.1,
    "error_rate_max": 0.05,
    "latency_p99_ms_max": 100.0,
    # a change this many hours before an incident's onset is a suspect; with none, a
    # rollback may not help (the plan says so)
    "change_lookback_hours": 24.0,
    # how long the recovery watch waits for the alert's signal after a mitigation, when the
    # runbook names no deadline (minutes), and how many good minutes in a row it needs
    "recovery_deadline_minutes": 15.0,
    "recovery_consecutive": 2.0,
}


@dataclass(frozen=True)
class RoleConfig:
    plugin: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EnvironmentConfig:
    name: str
    roles: Mapping[str, RoleConfig]
    read_only: bool = False
    allow_auto_actions: bool = True
    two_person: bool = False
    revenue_per_hour: Mapping[str, float] = field(default_factory=dict)  # model -> money/hour
    #: A rollback target that fails its health probe after traffic moved to it: "revert"
    #: (traffic goes back where it was, the rollback ends FAILED — undone) or "keep" (traffic
    #: stays, the rollback ends partially applied with its undo command).
    unhealthy_target: str = "revert"
    #: ``[env.X.notify]``: the channels told about its incidents (``console.notify``)
    notify: NotifySettings = field(default_factory=NotifySettings)

    def role(self, role: str) -> RoleConfig | None:
        return self.roles.get(role)


#: ``[serve]``: ``rollbook serve``, the Alertmanager webhook receiver.
DEFAULT_SERVE_TOKEN_ENV = "ROLLBOOK_SERVE_TOKEN"
DEFAULT_SERVE_MAX_BODY = 1024 * 1024  # bytes; Alertmanager's groups are a few kB


@dataclass(frozen=True)
class ServeConfig:
    #: the environment variable holding the bearer token Alertmanager sends (never the token)
    token_env: str = DEFAULT_SERVE_TOKEN_ENV
    #: the alert label that names the model (as the alertmanager plugin's ``model_label``)
    model_label: str = "model"
    #: a request body above this many bytes is refused (413) before it is parsed
    max_body_bytes: int = DEFAULT_SERVE_MAX_BODY


@dataclass(frozen=True)
class Config:
    path: Path
    data_dir: Path
    default_env: str
    envs: Mapping[str, EnvironmentConfig]
    thresholds: Mapping[str, float]
    currency: str = "USD"
    runbook_dirs: tuple[Path, ...] = ()
    template_dir: Path | None = None
    drill_targets: Mapping[str, float] = field(default_factory=dict)  # minutes
    keys: Mapping[str, str] = field(default_factory=dict)  # binding id -> key
    actor: str = ""
    #: alert ``severity`` label -> incident severity (``[severity]`` in config.toml)
    severity: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_SEVERITY))
    serve: ServeConfig = field(default_factory=ServeConfig)
    store: StoreConfig = field(default_factory=StoreConfig)

    def env(self, name: str | None = None) -> EnvironmentConfig:
        name = name or self.default_env
        try:
            return self.envs[name]
        except KeyError:
            raise ConfigError(
                self.path,
                f"env.{name}",
                "no such environment",
                hint=f"known environments: {', '.join(sorted(self.envs))}",
            ) from None


def home() -> Path | None:
    value = os.environ.get("ROLLBOOK_HOME")
    return Path(value).expanduser() if value else None


def config_path() -> Path:
    h = home()
    if h is not None:
        return h / "config.toml"
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP)) / "config.toml"


def data_dir() -> Path:
    h = home()
    if h is not None:
        return h / "data"
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP))


def demo_env() -> EnvironmentConfig:
    return EnvironmentConfig(
        name=DEMO_ENV,
        roles={r: RoleConfig("embedded") for r in ROLES},
        revenue_per_hour={
            "churn": 12_000.0,
            "recommendations": 50_000.0,
            "credit-score": 8_000.0,
            "fraud": 30_000.0,
            "pricing": 90_000.0,
        },
    )


def load(path: Path | None = None) -> Config:
    """Load the config (a missing file means defaults: the embedded demo only)."""
    path = path or config_path()
    raw: dict[str, Any] = {}
    if path.exists():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(path, None, f"not valid TOML: {exc}") from None
        except OSError as exc:
            raise ConfigError(path, None, f"cannot read: {exc}") from None
    return parse(raw, path)


def _expect(path: Path, key: str, value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ConfigError(path, key, f"expected {what}, got {type(value).__name__} {value!r}")
    return value


def _amount(path: Path, key: str, value: Any, what: str) -> float:
    """A finite number ≥ 0: a NaN threshold or target would silently turn every comparison
    with it false, and none of them is negative."""
    _expect(path, key, value, (int, float), what)
    if not math.isfinite(value) or value < 0:
        raise ConfigError(path, key, f"expected {what} (finite, at least 0), got {value!r}")
    return float(value)


def _folder(path: Path, key: str, value: Any) -> Path:
    """A folder named in the config, relative to the config's folder, ``~`` expanded."""
    _expect(path, key, value, str, "a folder path")
    if not value.strip():
        raise ConfigError(path, key, "expected a folder path, got an empty string")
    try:
        folder = Path(value).expanduser()
    except RuntimeError:  # ~user of no such user, or no home directory at all
        raise ConfigError(path, key, f"cannot expand {value!r}: no such home directory") from None
    return path.parent / folder


def _check_no_secret(path: Path, key: str, options: Mapping[str, Any]) -> None:
    for k, v in options.items():
        lowered = k.lower()
        if any(w in lowered for w in SECRET_WORDS) and not lowered.endswith("_env") and v:
            raise ConfigError(
                path,
                f"{key}.{k}",
                "secrets are never stored in the config file",
                hint=f'put it in an environment variable and write {k}_env = "VAR_NAME"',
            )


def _parse_env(path: Path, name: str, raw: Mapping[str, Any]) -> EnvironmentConfig:
    base = f"env.{name}"
    _expect(path, base, raw, dict, "a table")
    roles: dict[str, RoleConfig] = {}
    extra = {}
    for key, value in raw.items():
        if key in ROLES:
            if isinstance(value, str):
                roles[key] = RoleConfig(value)
            elif isinstance(value, dict):
                plugin = value.get("plugin")
                if not isinstance(plugin, str) or not plugin:
                    raise ConfigError(
                        path,
                        f"{base}.{key}.plugin",
                        "missing plugin name",
                        hint='e.g. plugin = "mlflow"',
                    )
                opts = {k: v for k, v in value.items() if k != "plugin"}
                _check_no_secret(path, f"{base}.{key}", opts)
                roles[key] = RoleConfig(plugin, opts)
            else:
                raise ConfigError(
                    path, f"{base}.{key}", "expected a plugin name or a table with `plugin = ...`"
                )
        else:
            extra[key] = value
    known = {
        "read_only",
        "allow_auto_actions",
        "two_person",
        "revenue_per_hour",
        "unhealthy_target",
        "notify",
    }
    for key in extra:
        if key not in known:
            raise ConfigError(
                path,
                f"{base}.{key}",
                "unknown key",
                hint=f"roles: {', '.join(ROLES)}; settings: {', '.join(sorted(known))}",
            )
    rph = extra.get("revenue_per_hour", {})
    _expect(path, f"{base}.revenue_per_hour", rph, dict, "a table of model = amount")
    revenue = {
        str(model): _amount(path, f"{base}.revenue_per_hour.{model}", amount, "an amount")
        for model, amount in rph.items()
    }
    return EnvironmentConfig(
        name=name,
        roles=roles,
        read_only=_expect(
            path, f"{base}.read_only", extra.get("read_only", False), bool, "true or false"
        ),
        allow_auto_actions=_expect(
            path,
            f"{base}.allow_auto_actions",
            extra.get("allow_auto_actions", name == DEMO_ENV),
            bool,
            "true or false",
        ),
        two_person=_expect(
            path, f"{base}.two_person", extra.get("two_person", False), bool, "true or false"
        ),
        revenue_per_hour=revenue,
        unhealthy_target=_choice(
            path,
            f"{base}.unhealthy_target",
            extra.get("unhealthy_target", "revert"),
            UNHEALTHY_TARGET,
        ),
        notify=parse_notify(path, f"{base}.notify", extra.get("notify")),
    )


UNHEALTHY_TARGET = ("revert", "keep")


def _choice(path: Path, key: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(path, key, f"must be one of {', '.join(choices)}, got {value!r}")
    return str(value)


def _parse_keys(path: Path, raw: Any) -> dict[str, str]:
    """``[keys]``: binding id = key. An unknown id, a key two commands on one screen would
    share, or a key that takes over quit, help or ctrl+c is a config error naming the file,
    the binding and the clash (``console.keymap.validate``)."""
    from console.keymap import KeyProblem, validate

    table = _expect(path, "keys", raw, dict, "a table of binding id = key")
    try:
        return validate(table)
    except KeyProblem as exc:
        raise ConfigError(path, f"keys.{exc.binding}", exc.problem, hint=exc.hint) from None


def _parse_store(path: Path, raw: Any) -> StoreConfig:
    """``[store]``: ``backend`` (sqlite | postgres) and ``dsn_env``, the *name* of the
    environment variable holding the PostgreSQL DSN (a DSN carries a password: never here)."""
    table = _expect(path, "store", raw, dict, "a table")
    for key in table:
        if key not in ("backend", "dsn_env"):
            raise ConfigError(path, f"store.{key}", "unknown key", hint="known: backend, dsn_env")
    backend = _choice(path, "store.backend", table.get("backend", "sqlite"), STORE_BACKENDS)
    dsn_env = _expect(
        path,
        "store.dsn_env",
        table.get("dsn_env", "ROLLBOOK_STORE_DSN"),
        str,
        "the name of an environment variable",
    )
    if "://" in dsn_env or "=" in dsn_env or not dsn_env.replace("_", "a").isalnum():
        raise ConfigError(
            path,
            "store.dsn_env",
            "is the DSN itself, not a variable name",
            hint='dsn_env = "ROLLBOOK_STORE_DSN", and export the DSN in it',
        )
    return StoreConfig(backend=backend, dsn_env=dsn_env)


def _parse_serve(path: Path, raw: Any) -> ServeConfig:
    """``[serve]``: ``token_env`` (a variable name), ``model_label``, ``max_body_bytes`` (a
    positive integer, at most 64 MiB)."""
    table = _expect(path, "serve", raw, dict, "a table")
    _check_no_secret(path, "serve", table)
    known = {"token_env", "model_label", "max_body_bytes"}
    for key in table:
        if key not in known:
            raise ConfigError(
                path, f"serve.{key}", "unknown key", hint=f"known: {', '.join(sorted(known))}"
            )
    token_env = _expect(
        path, "serve.token_env", table.get("token_env", DEFAULT_SERVE_TOKEN_ENV), str, "a name"
    )
    if (
        not (token_env.isascii() and token_env.replace("_", "a").isalnum())
        or token_env[:1].isdigit()
    ):
        raise ConfigError(
            path,
            "serve.token_env",
            f"{token_env!r} is not an environment variable name",
            hint='e.g. token_env = "ROLLBOOK_SERVE_TOKEN"',
        )
    label = _expect(path, "serve.model_label", table.get("model_label", "model"), str, "a label")
    if not label:
        raise ConfigError(path, "serve.model_label", "must not be empty")
    limit = _expect(
        path,
        "serve.max_body_bytes",
        table.get("max_body_bytes", DEFAULT_SERVE_MAX_BODY),
        int,
        "a number of bytes",
    )
    if not 0 < limit <= 64 * 1024 * 1024:
        raise ConfigError(path, "serve.max_body_bytes", f"must be 1 to 67108864, got {limit}")
    return ServeConfig(token_env=token_env, model_label=label, max_body_bytes=limit)


def parse(raw: Mapping[str, Any], path: Path) -> Config:
    top_known = {
        "default_env",
        "env",
        "thresholds",
        "currency",
        "runbooks",
        "templates",
        "drill",
        "keys",
        "actor",
        "severity",
        "serve",
        "store",
    }
    for key in raw:
        if key not in top_known:
            raise ConfigError(
                path, key, "unknown key", hint=f"known: {', '.join(sorted(top_known))}"
            )
    envs: dict[str, EnvironmentConfig] = {DEMO_ENV: demo_env()}
    env_tables = _expect(path, "env", raw.get("env", {}), dict, "a table of environments")
    for name, table in env_tables.items():
        env = _parse_env(path, name, table)
        if name == DEMO_ENV:  # the demo keeps embedded roles unless overridden
            env = EnvironmentConfig(
                name,
                {**demo_env().roles, **env.roles},
                env.read_only,
                env.allow_auto_actions,
                env.two_person,
                env.revenue_per_hour or demo_env().revenue_per_hour,
                env.unhealthy_target,
                env.notify,
            )
        envs[name] = env
    default_env = os.environ.get("ROLLBOOK_ENV") or raw.get("default_env", DEMO_ENV)
    _expect(path, "default_env", default_env, str, "an environment name")
    if default_env not in envs:
        raise ConfigError(
            path,
            "default_env",
            f"names unknown environment {default_env!r}",
            hint=f"define [env.{default_env}] or use one of {sorted(envs)}",
        )
    thresholds = dict(DEFAULT_THRESHOLDS)
    for key, value in _expect(
        path, "thresholds", raw.get("thresholds", {}), dict, "a table"
    ).items():
        if key not in DEFAULT_THRESHOLDS:
            raise ConfigError(
                path,
                f"thresholds.{key}",
                "unknown threshold",
                hint=f"known: {', '.join(sorted(DEFAULT_THRESHOLDS))}",
            )
        thresholds[key] = _amount(path, f"thresholds.{key}", value, "a number")
    runbooks = _expect(path, "runbooks", raw.get("runbooks", {}), dict, "a table")
    dirs = _expect(path, "runbooks.paths", runbooks.get("paths", []), list, "a list of folders")
    runbook_dirs = tuple(_folder(path, f"runbooks.paths[{i}]", p) for i, p in enumerate(dirs))
    templates = _expect(path, "templates", raw.get("templates", {}), dict, "a table")
    tdir = templates.get("path")
    template_dir = _folder(path, "templates.path", tdir) if tdir is not None else None
    drill = _expect(path, "drill", raw.get("drill", {}), dict, "a table")
    from console.reports.metrics import DEFAULT_DRILL_TARGETS

    targets = dict(DEFAULT_DRILL_TARGETS)
    for key, value in drill.items():
        if key not in targets:
            raise ConfigError(
                path,
                f"drill.{key}",
                "unknown drill target",
                hint=f"known: {', '.join(sorted(targets))}",
            )
        targets[key] = _amount(path, f"drill.{key}", value, "minutes")
    severity = dict(DEFAULT_SEVERITY)
    for label, sev in _expect(
        path, "severity", raw.get("severity", {}), dict, "a table of alert label = SEV1…SEV4"
    ).items():
        severity[str(label)] = _choice(
            path, f"severity.{label}", sev, ("SEV1", "SEV2", "SEV3", "SEV4")
        )
    keys = _parse_keys(path, raw.get("keys", {}))
    actor = _expect(path, "actor", raw.get("actor", ""), str, "a name")
    return Config(
        path=path,
        data_dir=data_dir(),
        default_env=default_env,
        envs=envs,
        thresholds=thresholds,
        currency=_expect(path, "currency", raw.get("currency", "USD"), str, "a currency code"),
        runbook_dirs=runbook_dirs,
        template_dir=template_dir,
        drill_targets=targets,
        keys=dict(keys),
        severity=severity,
        serve=_parse_serve(path, raw.get("serve", {})),
        store=_parse_store(path, raw.get("store", {})),
        actor=os.environ.get("ROLLBOOK_ACTOR") or actor or os.environ.get("USER", "") or "operator",
    )
