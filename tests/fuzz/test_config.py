"""``config.toml`` through the loader (``console.config.load``) and through the CLI with
``$ROLLBOOK_HOME/config.toml`` written: documents built from the config's real keys (top
level, ``[env.NAME]`` with its roles, settings and ``notify`` channels, ``[thresholds]``,
``[drill]``, ``[keys]``, ``[severity]``, ``[runbooks]``, ``[templates]``, ``[serve]``,
``[store]``) holding good values, values of the wrong type and values out of range, plus
arbitrary text.

The loader returns a ``Config`` or raises ``ConfigError`` naming the file (exit 3) — never
another exception. The CLI ends with a README exit code and no traceback; a config the loader
refuses is exit 3 with the file named, on stderr and in ``--json``'s error.
"""

from __future__ import annotations

import json
import math
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.conftest import assert_clean, count, doc_paths, fuzz_settings, run_main

# ---- a small TOML writer (values tomllib reads back as written) ----------------------------


def toml_string(s: str) -> str:
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return (
            "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
        )
    if isinstance(v, str):
        return toml_string(v)
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return (
            "{" + ", ".join(f"{toml_string(str(k))} = {toml_value(x)}" for k, x in v.items()) + "}"
        )
    raise TypeError(type(v))


def toml_document(doc: dict[str, Any]) -> str:
    """Scalars first, then each table under its own ``[header]`` (nested ones inline)."""
    lines = [
        f"{toml_string(k)} = {toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)
    ]
    for k, v in doc.items():
        if isinstance(v, dict):
            lines.append(f"\n[{toml_string(k)}]")
            lines += [f"{toml_string(str(kk))} = {toml_value(vv)}" for kk, vv in v.items()]
    return "\n".join(lines) + "\n"


# ---- values ------------------------------------------------------------------------------
WILD_SCALAR = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["", " ", "~nosuchuser/x", "~", "../..", "/dev/null", "é" * 40, "x" * 5000]),
    st.just(datetime(1979, 5, 27, 7, 32, tzinfo=UTC)),
)
WILD = st.recursive(
    WILD_SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=5,
)


def maybe(good: st.SearchStrategy) -> st.SearchStrategy:
    """A value that fits the key (the flaws come from ``flawed``)."""
    return good


NUMBER = st.one_of(st.floats(0, 1e6), st.integers(0, 10**6))
BAD = st.one_of(
    WILD,
    st.sampled_from(
        [-1, -0.5, float("nan"), float("inf"), float("-inf"), 1e308, 2**70, 0, "", "nope"]
    ),
    st.sampled_from(["~nosuchuser/x", "~", "x" * 5000, "SEV9", "ctrl+c", "q", "?"]),
)
NAMES = st.sampled_from(["prod", "staging", "demo", "é-env", "a.b", ""])
MODELS = st.sampled_from(["churn", "fraud", "pricing", "nope", ""])
ROLE_NAMES = ("registry", "metrics", "traffic", "predictions", "world")
PLUGINS = st.sampled_from(["embedded", "embedded", "nope", "", "mlflow", "prometheus", "EMBEDDED"])


def binding_ids() -> list[str]:
    from console.keymap import by_id

    return sorted(by_id())


KEY_NAMES = st.sampled_from(["R", "x", "ctrl+x", "q", "?", "ctrl+c", "f1", "space", " ", "", "a b"])
TOPICS = st.sampled_from(["opened", "resolved", "update", "nope", ""])


@st.composite
def role(draw) -> Any:
    if draw(st.booleans()):
        return draw(maybe(PLUGINS))
    table: dict[str, Any] = {}
    if draw(st.integers(0, 4)):
        table["plugin"] = draw(maybe(PLUGINS))
    for key in draw(st.sets(st.sampled_from(["url", "token_env", "token", "timeout", "path"]))):
        table[key] = draw(
            maybe(st.sampled_from(["http://127.0.0.1:1", "MLFLOW_TOKEN", "s3cr3t", "5", ""]))
        )
    return table


@st.composite
def notify(draw) -> Any:
    table: dict[str, Any] = {}
    for key, good in {
        "attempts": st.integers(-1, 25),
        "timeout": NUMBER,
        "backoff": NUMBER,
        "flush_seconds": NUMBER,
        "max_age_minutes": NUMBER,
        "postmortem_url": st.sampled_from(["https://wiki/{incident}", "ftp://x", ""]),
    }.items():
        if draw(st.integers(0, 3)) == 0:
            table[key] = draw(maybe(good))
    for name in draw(st.sets(st.sampled_from(["team", "pager", "drills"]), max_size=2)):
        channel: dict[str, Any] = {}
        if draw(st.integers(0, 4)):
            channel["plugin"] = draw(maybe(st.sampled_from(["slack", "pagerduty", "nope"])))
        if draw(st.booleans()):
            channel["events"] = draw(maybe(st.lists(TOPICS, max_size=3)))
        if draw(st.booleans()):
            channel["min_severity"] = draw(maybe(st.sampled_from(["SEV1", "SEV4", "SEV9"])))
        if draw(st.booleans()):
            channel["drills"] = draw(maybe(st.booleans()))
        if draw(st.booleans()):
            channel[draw(st.sampled_from(["webhook_url_env", "webhook_url", "channel"]))] = draw(
                maybe(st.sampled_from(["SLACK_HOOK", "https://hooks.slack.com/x", "C012"]))
            )
        table[name] = channel
    return table


@st.composite
def env_table(draw) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for r in draw(st.sets(st.sampled_from(ROLE_NAMES))):
        table[r] = draw(role())
    settings = {
        "read_only": st.booleans(),
        "allow_auto_actions": st.booleans(),
        "two_person": st.booleans(),
        "unhealthy_target": st.sampled_from(["revert", "keep", "nope"]),
        "revenue_per_hour": st.dictionaries(MODELS, NUMBER, max_size=3),
        "notify": notify(),
        "registyr": st.just("embedded"),  # an unknown key
    }
    for key in draw(st.sets(st.sampled_from(sorted(settings)), max_size=3)):
        table[key] = draw(maybe(settings[key]))
    return table


@st.composite
def config_doc(draw) -> dict[str, Any]:
    thresholds_keys = [
        "psi_moderate",
        "psi_significant",
        "null_rate_warn",
        "null_rate_breaker",
        "positive_rate_pp",
        "recovery_deadline_minutes",
        "psi_huge",
    ]
    drill_keys = ["detect_minutes", "acknowledge_minutes", "mitigate_minutes", "nope_minutes"]
    parts: dict[str, st.SearchStrategy] = {
        "default_env": NAMES,
        "actor": st.sampled_from(["ana", "", "é" * 3]),
        "currency": st.sampled_from(["USD", "EUR", ""]),
        "env": st.dictionaries(NAMES, env_table(), max_size=2),
        "thresholds": st.dictionaries(st.sampled_from(thresholds_keys), NUMBER, max_size=3),
        "drill": st.dictionaries(st.sampled_from(drill_keys), NUMBER, max_size=2),
        "keys": st.dictionaries(
            st.one_of(st.sampled_from(binding_ids()), st.just("nope")), KEY_NAMES, max_size=2
        ),
        "severity": st.dictionaries(
            st.text(max_size=6), st.sampled_from(["SEV1", "SEV3", "sev2", "P1"]), max_size=2
        ),
        "runbooks": st.fixed_dictionaries(
            {
                "paths": st.lists(
                    st.sampled_from(["runbooks", "~/rb", "~nosuchuser/rb", ""]), max_size=2
                )
            }
        ),
        "templates": st.fixed_dictionaries(
            {"path": st.sampled_from(["templates", "~nosuchuser/t", "", "/"])}
        ),
        "serve": st.fixed_dictionaries(
            {},
            optional={
                "token_env": st.sampled_from(["ROLLBOOK_SERVE_TOKEN", "1BAD", "A-B", "", "É"]),
                "model_label": st.sampled_from(["model", "", "service"]),
                "max_body_bytes": st.integers(-1, 2**40),
                "token": st.just("s3cr3t"),
            },
        ),
        "store": st.fixed_dictionaries(
            {},
            optional={
                "backend": st.sampled_from(["sqlite", "postgres", "mysql"]),
                "dsn_env": st.sampled_from(["ROLLBOOK_STORE_DSN", "postgres://u:p@h/db", ""]),
            },
        ),
    }
    doc: dict[str, Any] = {}
    for key in draw(st.sets(st.sampled_from(sorted(parts)), max_size=6)):
        doc[key] = draw(parts[key])
    if "env" in doc and draw(st.booleans()):  # name one of its environments as the default
        doc["default_env"] = draw(st.sampled_from(sorted(doc["env"]) or ["demo"]))
    return doc


@st.composite
def flawed(draw) -> dict[str, Any]:
    """A config of good values with none, one or two flaws: a value replaced by one of the
    wrong type or out of range, a key dropped, or an unknown key added."""
    doc = draw(config_doc())
    for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2]))):
        where = doc_paths(doc, root=False)
        if not where:
            break
        path = draw(st.sampled_from(where))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        op = draw(st.sampled_from(["replace", "replace", "replace", "drop", "unknown"]))
        if op == "replace":
            parent[path[-1]] = draw(BAD)
        elif op == "drop":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = draw(WILD_SCALAR)
    return doc


CONFIG_TEXT = st.one_of(
    flawed().map(toml_document),
    flawed().map(toml_document),
    flawed().map(toml_document),
    flawed().map(toml_document),
    st.text(max_size=200),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
)
COMMANDS = [["incidents", "--json"], ["runbook", "list", "--json"], ["plugins", "--json"]]


# ---- what every config must do -------------------------------------------------------------
def check_load(path: Path, text: str) -> bool:
    """A Config or a ConfigError naming ``path``; returns whether it loaded."""
    from console.config import Config, load
    from console.errors import ConfigError

    try:
        cfg = load(path)
    except ConfigError as exc:
        assert exc.exit_code == 3
        assert exc.path == path and str(path) in str(exc), str(exc)
        return False
    except Exception:  # noqa: BLE001 - the finding
        raise AssertionError(f"load raised on:\n{text[:3000]}\n{traceback.format_exc()}") from None
    assert isinstance(cfg, Config)
    assert isinstance(cfg.actor, str) and cfg.actor
    assert all(isinstance(v, float) and math.isfinite(v) for v in cfg.thresholds.values()), (
        cfg.thresholds
    )
    assert all(math.isfinite(v) and v >= 0 for v in cfg.drill_targets.values()), cfg.drill_targets
    for env in cfg.envs.values():
        assert all(math.isfinite(v) and v >= 0 for v in env.revenue_per_hour.values())
    cfg.env()  # the default environment exists
    return True


def test_config_documents_load_or_name_the_file(rollbook_home, monkeypatch):
    monkeypatch.delenv("ROLLBOOK_ACTOR", raising=False)  # the config's actor counts

    @fuzz_settings(examples=300)
    @given(text=CONFIG_TEXT)
    def run(text: str) -> None:
        path = rollbook_home / "config.toml"
        path.write_text(text, encoding="utf-8")
        check_load(path, text)
        count("config toml (loader)")

    run()


def test_config_documents_through_the_cli_end_in_exit_3_naming_the_file(rollbook_home):
    @fuzz_settings(examples=80)
    @given(text=CONFIG_TEXT, argv=st.sampled_from(COMMANDS))
    def run(text: str, argv: list[str]) -> None:
        path = rollbook_home / "config.toml"
        path.write_text(text, encoding="utf-8")
        loaded = check_load(path, text)
        code, out, err = run_main(argv)
        assert_clean(argv, code, out, err)
        if not loaded:
            assert code == 3, (code, out, err)
            assert str(path) in err and str(path) in json.loads(out)["error"]["message"]
        count("config toml (cli)")

    run()
