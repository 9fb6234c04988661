"""Parsing quirks of the real backends, without servers (MockTransport stands in where only
the parsing is under test). Every plugin also runs against its real server in the
``test_real_*`` modules."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from console.backends.plugin import PluginContext
from console.backends.types import FALLBACK_RULES
from console.errors import BackendError, ConfigError, InvalidInput, NotFound
from plugins.haproxy.runtime import parse_address, parse_stat
from plugins.haproxy.traffic import shares
from plugins.http_common.alertmanager import format_matcher, parse_matcher
from plugins.http_common.api import ApiError, JsonApi
from plugins.http_common.probe import ProbeSettings, probe_endpoint
from plugins.http_common.samples import fingerprint, parse_time, parse_value
from plugins.mlflow import tags as T
from plugins.mlflow.registry import MlflowRegistry, is_missing_alias
from plugins.prometheus import promql
from plugins.prometheus.metrics import PrometheusMetrics

DATA = Path(__file__).parent / "data"


# ---- Prometheus sample values -------------------------------------------------------------
@pytest.mark.parametrize(
    "raw, expected",
    [
        ("0.25", 0.25),
        ("1e+00", 1.0),
        ("5.031446540880503e-01", 0.5031446540880503),
        ("NaN", None),
        ("+Inf", None),
        ("-Inf", None),
        ("", None),
        (None, None),
        ("not a number", None),
        (True, None),
        (3, 3.0),
    ],
)
def test_sample_values_parse_without_crashing(raw, expected):
    assert parse_value(raw) == expected


def test_times_with_nanoseconds_and_unix_seconds():
    t = parse_time("2026-11-22T23:28:44.895342605Z")
    assert t == datetime(2026, 11, 22, 23, 28, 44, 895342, tzinfo=UTC)
    assert parse_time(1795389707.5) == datetime.fromtimestamp(1795389707.5, UTC)
    assert parse_time("2026-11-22T23:28:44Z").tzinfo is not None
    assert parse_time("garbage") is None


def test_fingerprint_matches_alertmanager():
    # values read from a real Alertmanager 0.25 for the same label set
    labels = {
        "alertname": "ModelErrorRateHigh",
        "model": "churn",
        "severity": "critical",
        "version": "2",
    }
    assert fingerprint(labels) == "c8f60ed2fa652a18"
    assert fingerprint({}) == "cbf29ce484222325"  # FNV-1a 64 offset basis
    assert fingerprint(dict(reversed(labels.items()))) == fingerprint(labels)


def _prom(handler) -> PrometheusMetrics:
    api = JsonApi("Prometheus", "http://prom.test", transport=httpx.MockTransport(handler))
    return PrometheusMetrics(api, signals=promql.DEFAULT_SIGNALS, window="1m")


def test_vector_with_nan_and_inf_values():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "status": "success",
                "data": {
                    "resultType": "vector",
                    "result": [
                        {"metric": {"model": "churn"}, "value": [1795389707.1, "NaN"]},
                        {"metric": {"model": "fraud"}, "value": [1795389707.1, "+Inf"]},
                        {"metric": {"model": "pricing"}, "value": [1795389707.1, "0.031"]},
                    ],
                },
            },
        )

    m = _prom(handler)
    assert m.query_fleet("error_rate") == {"churn": None, "fraud": None, "pricing": 0.031}
    assert m.query("error_rate", "churn") is None
    assert m.query("error_rate", "nosuchmodel") is None


def test_range_points_with_nan_become_none():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "status": "success",
                "data": {
                    "resultType": "matrix",
                    "result": [
                        {
                            "metric": {"model": "churn"},
                            "values": [[1000, "0.1"], [1060, "NaN"], [1120, "-Inf"], [1180, "0.2"]],
                        }
                    ],
                },
            },
        )

    pts = _prom(handler).query_range(
        "error_rate",
        "churn",
        datetime.fromtimestamp(1000, UTC),
        datetime.fromtimestamp(1180, UTC),
        step_seconds=60,
    )
    assert [p.value for p in pts] == [0.1, None, None, 0.2]
    assert pts[0].at.tzinfo is not None


def test_fleet_is_one_query_per_signal_and_cached():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(httpx.QueryParams(request.content.decode())))
        return httpx.Response(
            200,
            json={
                "status": "success",
                "data": {
                    "resultType": "vector",
                    "result": [
                        {"metric": {"model": m}, "value": [1, "1"]} for m in ("a", "b", "c")
                    ],
                },
            },
        )

    m = _prom(handler)
    assert {x: m.query("request_rate", x) for x in "abc"} == {"a": 1.0, "b": 1.0, "c": 1.0}
    assert len(seen) == 1
    assert "by (model)" in seen[0]["query"] and "{}" in seen[0]["query"]


def test_prometheus_error_answer_is_a_backend_error():
    def handler(request):
        return httpx.Response(
            400, json={"status": "error", "errorType": "bad_data", "error": "1:10: parse error"}
        )

    with pytest.raises(ApiError) as err:
        _prom(handler).query("request_rate", "churn")
    assert err.value.code == "bad_data" and "parse error" in str(err.value)


def test_promql_templates_render_selectors_with_trailing_comma():
    q = promql.render(
        promql.DEFAULT_SIGNALS["null_rate"],
        by=("model", "version"),
        matchers={"model": 'we"ird', "version": "2"},
        window="5m",
        feature="avg_order_value_90d",
    )
    assert q == (
        "max by (model, version) (model_feature_null_ratio{feature="
        '"avg_order_value_90d",model="we\\"ird",version="2",})'
    )
    fleet = promql.render(
        promql.DEFAULT_SIGNALS["request_rate"], by=("model",), matchers={}, window="5m"
    )
    assert "model_requests_total{}[5m]" in fleet
    assert promql.template_key("null_rate:x") == ("null_rate", "x")


# ---- MLflow quirks ------------------------------------------------------------------------
def _mlflow(handler, **kw) -> MlflowRegistry:
    api = JsonApi("MLflow", "http://mlflow.test", transport=httpx.MockTransport(handler))
    return MlflowRegistry(api, **kw)


MISSING_ALIAS = {
    "error_code": "INVALID_PARAMETER_VALUE",
    "message": "Registered model alias champion not found.",
}


def test_missing_alias_is_400_and_falls_back_to_the_production_stage():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/registered-models/alias"):
            return httpx.Response(400, json=MISSING_ALIAS)
        if request.url.path.endswith("/get-latest-versions"):
            return httpx.Response(
                200,
                json={
                    "model_versions": [
                        {"name": "churn", "version": "3", "current_stage": "Production"}
                    ]
                },
            )
        return httpx.Response(500)

    assert _mlflow(handler).production_version("churn") == "3"


def test_missing_alias_and_no_stage_is_none():
    def handler(request):
        if request.url.path.endswith("/registered-models/alias"):
            return httpx.Response(400, json=MISSING_ALIAS)
        return httpx.Response(200, json={})

    assert _mlflow(handler).production_version("churn") is None


def test_other_400s_are_not_mistaken_for_a_missing_alias():
    e = ApiError(
        "x",
        status=400,
        code="INVALID_PARAMETER_VALUE",
        detail="Missing value for required parameter 'name'.",
    )
    assert not is_missing_alias(e)
    assert is_missing_alias(
        ApiError("x", status=400, code="INVALID_PARAMETER_VALUE", detail=MISSING_ALIAS["message"])
    )


def test_unknown_model_is_not_found():
    def handler(request):
        return httpx.Response(
            404,
            json={
                "error_code": "RESOURCE_DOES_NOT_EXIST",
                "message": "Registered Model with name=x not found",
            },
        )

    with pytest.raises(NotFound):
        _mlflow(handler).production_version("x")
    with pytest.raises(NotFound):
        _mlflow(handler).versions("x")


def test_delete_alias_sends_a_json_body():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["method"], seen["body"] = request.method, json.loads(request.content or b"{}")
        seen["ctype"] = request.headers.get("content-type")
        return httpx.Response(200, json={})

    _mlflow(handler, alias="prod").clear_alias("churn")
    assert seen == {
        "method": "DELETE",
        "body": {"name": "churn", "alias": "prod"},
        "ctype": "application/json",
    }


def test_lineage_round_trips_through_tags():
    from console.backends.types import Lineage

    lin = Lineage(
        code_commit="abc",
        data_snapshot_hash="sha256:1",
        data_description="d",
        data_sources=("orders", "customers"),
        feature_version="fs-3",
        feature_importance={"tenure": 0.4},
        params={"depth": 6, "loss": "log"},
        environment={"python": "3.11"},
        artifact_hash="sha256:2",
        validation_metrics={"auc": 0.86},
        gates={"auc_min": True, "bias": False},
    )
    assert T.lineage_from_tags(T.tags_from_lineage(lin)) == lin
    odd = T.lineage_from_tags(
        {"rollbook.metric.auc": "high", "rollbook.gate.x": "maybe", "rollbook.gate.y": "PASSED"}
    )
    assert odd.validation_metrics == {} and odd.gates == {"y": True}


def test_stage_of_a_version_that_lost_the_pointer_is_archived():
    reg = _mlflow(lambda r: httpx.Response(500))
    v = {"version": "2", "current_stage": "Production", "creation_timestamp": 0, "tags": []}
    assert reg._version("churn", v, target="3").stage == "Archived"
    assert reg._version("churn", v, target="2").stage == "Production"
    canary = {"version": "4", "tags": [{"key": "rollbook.stage", "value": "Canary"}]}
    assert reg._version("churn", canary, target="2").stage == "Canary"


def test_bearer_and_basic_auth_from_environment(monkeypatch):
    from plugins.http_common.api import auth_from_options

    ctx = PluginContext("prod", Path("/tmp"))
    monkeypatch.setenv("T_TOKEN", "s3cret")
    assert auth_from_options(ctx, {"token_env": "T_TOKEN"}, "registry") == {
        "Authorization": "Bearer s3cret"
    }
    monkeypatch.setenv("T_USER", "u")
    monkeypatch.setenv("T_PASS", "p")
    basic = auth_from_options(ctx, {"username_env": "T_USER", "password_env": "T_PASS"}, "r")
    assert isinstance(basic, httpx.BasicAuth)
    with pytest.raises(ConfigError, match="NOPE_UNSET is not set"):
        auth_from_options(ctx, {"token_env": "NOPE_UNSET"}, "registry")

    seen = {}

    def handler(request):
        seen["auth"] = request.headers.get("authorization")
        return httpx.Response(200, json={"registered_models": []})

    api = JsonApi(
        "MLflow",
        "http://m.test",
        auth={"Authorization": "Bearer s3cret"},
        transport=httpx.MockTransport(handler),
    )
    MlflowRegistry(api).models()
    assert seen["auth"] == "Bearer s3cret"


def test_unreachable_and_slow_servers_are_backend_errors():
    def refuse(request):
        raise httpx.ConnectError("connection refused")

    def slow(request):
        raise httpx.ReadTimeout("timed out")

    with pytest.raises(BackendError, match="cannot reach MLflow"):
        _mlflow(refuse).models()
    with pytest.raises(BackendError, match="did not answer .* within"):
        _mlflow(slow).models()


# ---- HAProxy ------------------------------------------------------------------------------
def test_show_stat_parses_and_computes_shares():
    rows = parse_stat((DATA / "haproxy_show_stat.csv").read_text())
    assert [(r.server, r.status, r.uweight) for r in rows] == [
        ("v1", "UP", 100),
        ("v2", "DRAIN", 0),
        ("rules", "DRAIN", 0),
    ]
    assert shares(rows, {"v1": "1", "v2": "2", "rules": FALLBACK_RULES}) == {"1": 100.0}
    assert shares(rows, {}) == {"server:v1": 100.0}


def test_show_stat_garbage_is_a_backend_error():
    with pytest.raises(BackendError):
        parse_stat("Unknown command\n")


@pytest.mark.parametrize(
    "addr, family_name, target",
    [
        ("/run/haproxy/admin.sock", "AF_UNIX", "/run/haproxy/admin.sock"),
        ("unix:/tmp/a.sock", "AF_UNIX", "/tmp/a.sock"),
        ("127.0.0.1:9999", "AF_INET", ("127.0.0.1", 9999)),
        ("tcp:127.0.0.1:9999", "AF_INET", ("127.0.0.1", 9999)),
    ],
)
def test_runtime_addresses(addr, family_name, target):
    import socket

    family, t = parse_address(addr)
    assert family == getattr(socket, family_name) and t == target


def _haproxy_ctx_options(**over):
    opts = {
        "socket": "/nonexistent.sock",
        "models": {
            "churn": {
                "backend": "churn",
                "versions": {"1": "v1", "2": "v2"},
                "fallbacks": {"previous": "1", "rules": "rules"},
            }
        },
    }
    opts.update(over)
    return opts


def test_haproxy_config_is_validated():
    from plugins.haproxy import make_traffic

    ctx = PluginContext("local", Path("/tmp"))
    t = make_traffic(ctx, _haproxy_ctx_options())
    assert [f.level for f in t.fallbacks("churn")] == ["previous", "rules"]
    assert t.fallbacks("churn")[1].route == FALLBACK_RULES
    with pytest.raises(ConfigError, match="socket"):
        make_traffic(ctx, {"models": {}})
    with pytest.raises(ConfigError, match="fallbacks.previous"):
        make_traffic(
            ctx,
            _haproxy_ctx_options(
                models={"churn": {"versions": {"1": "v1"}, "fallbacks": {"previous": "9"}}}
            ),
        )
    with pytest.raises(ConfigError, match="not valid JSON"):
        make_traffic(ctx, _haproxy_ctx_options(sample_request="{nope"))


def test_haproxy_refuses_bad_weights_before_touching_anything():
    from plugins.haproxy import make_traffic

    t = make_traffic(PluginContext("local", Path("/tmp")), _haproxy_ctx_options())
    # the socket does not exist: reaching it would be a BackendError, so these prove that
    # validation comes first
    with pytest.raises(InvalidInput, match="whole percentages"):
        t.set_routes("churn", {"1": 12.5, "2": 87.5}, actor="t")
    with pytest.raises(InvalidInput, match="no HAProxy server for route"):
        t.set_routes("churn", {"7": 100}, actor="t")
    with pytest.raises(BackendError, match="cannot reach the HAProxy runtime API"):
        t.routes("churn")
    with pytest.raises(NotFound):
        t.routes("fraud")


# ---- probe, matchers, config --------------------------------------------------------------
def test_probe_catches_a_server_running_the_wrong_version():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/health":
            return httpx.Response(200, json={"status": "ok"})
        return httpx.Response(200, json={"version": "2", "score": 0.3})

    settings = ProbeSettings(sample={"features": {}})
    t = httpx.MockTransport(handler)
    bad = probe_endpoint(
        "http://m.test", target="1", settings=settings, expect_version="1", transport=t
    )
    assert not bad.healthy and "serves version 2, expected 1" in bad.detail
    ok = probe_endpoint(
        "http://m.test", target="2", settings=settings, expect_version="2", transport=t
    )
    assert ok.healthy and ok.latency_ms is not None and not math.isnan(ok.latency_ms)


@pytest.mark.parametrize(
    "text, obj, back",
    [
        (
            "alertname=ModelErrorRateHigh",
            {"name": "alertname", "value": "ModelErrorRateHigh", "isRegex": False, "isEqual": True},
            'alertname="ModelErrorRateHigh"',
        ),
        (
            'model!="churn"',
            {"name": "model", "value": "churn", "isRegex": False, "isEqual": False},
            'model!="churn"',
        ),
        (
            "severity=~crit.*",
            {"name": "severity", "value": "crit.*", "isRegex": True, "isEqual": True},
            'severity=~"crit.*"',
        ),
    ],
)
def test_silence_matchers(text, obj, back):
    assert parse_matcher(text) == obj
    assert format_matcher(obj) == back


def test_bad_matcher_and_durations():
    from console.silences import parse_duration

    with pytest.raises(InvalidInput):
        parse_matcher("no operator here")
    assert parse_duration("1h30m").total_seconds() == 5400
    assert parse_duration("90s").total_seconds() == 90
    for bad in ("", "10", "1x", "0m"):
        with pytest.raises(InvalidInput):
            parse_duration(bad)


def test_plugins_are_registered_and_validate_options(rollbook_home):
    from console.backends import discovery
    from console.config import load
    from console.workspace import open_workspace

    names = set(discovery.plugin_names())
    assert {"mlflow", "prometheus", "alertmanager", "haproxy"} <= names
    (rollbook_home / "config.toml").write_text(
        '[env.x.registry]\nplugin = "mlflow"\nurl = "http://127.0.0.1:1"\nbogus = 1\n'
        '[env.x.metrics]\nplugin = "prometheus"\nurl = "http://127.0.0.1:1"\n'
        '[env.x.traffic]\nplugin = "haproxy"\nsocket = "/nonexistent"\n'
        '[env.x.traffic.models.churn]\nversions = { "1" = "v1" }\n'
    )
    with pytest.raises(ConfigError, match="unknown option"):
        open_workspace("x", config=load())
    (rollbook_home / "config.toml").write_text(
        '[env.x.registry]\nplugin = "mlflow"\nurl = "http://127.0.0.1:1"\npointer = "tag"\n'
        '[env.x.metrics]\nplugin = "prometheus"\nurl = "http://127.0.0.1:1"\n'
        '[env.x.traffic]\nplugin = "haproxy"\nsocket = "/nonexistent"\n'
        '[env.x.traffic.models.churn]\nversions = { "1" = "v1" }\n'
    )
    with pytest.raises(ConfigError, match="pointer"):
        open_workspace("x", config=load())


def test_the_move_tags_parse_back_and_hand_written_values_are_ignored():
    from plugins.mlflow.registry import parse_move_tag

    at = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert parse_move_tag("2026-11-30T09:00:00+00:00 by ana: release: v3") == (
        at,
        "ana",
        "release: v3",
    )
    assert parse_move_tag("2026-11-30T09:00:00 by ana") == (at, "ana", "")  # naive is UTC
    assert parse_move_tag("promoted by hand") is None
    assert parse_move_tag("yesterday") is None
