"""The fleet, its lineage and stage history, the registry, routes and the plugin object."""

from __future__ import annotations

from datetime import timedelta
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from console.backends.interfaces import Metrics, PredictionLog, Registry, Traffic, World
from console.backends.plugin import PluginContext
from console.backends.types import FALLBACK_MANUAL, FALLBACK_RULES, STAGES
from console.clock import ManualClock
from console.errors import ConfigError, InvalidInput, NotFound
from plugins.embedded import plugin
from tests.embedded.conftest import START

MODELS = ["churn", "recommendations", "credit-score", "fraud", "pricing"]


def test_models_with_exact_names_patterns_and_key_signals(env):
    info = {m.name: m for m in env.registry.models()}
    assert list(info) == MODELS
    assert info["churn"].serving_pattern == "batch"
    assert {m.serving_pattern for n, m in info.items() if n != "churn"} == {"realtime"}
    assert {n: m.key_signal for n, m in info.items()} == {
        "churn": "positive_rate",
        "recommendations": "output_diversity",
        "credit-score": "prediction_mean",
        "fraud": "latency_p99_ms",
        "pricing": "error_rate",
    }
    assert {
        "avg_order_value_90d",
        "tenure_months",
        "orders_90d",
        "days_since_last_order",
        "support_tickets_90d",
        "plan_type",
        "region",
    } <= set(info["churn"].features)


def test_versions_stages_and_production(env):
    def stages(model):
        return [(v.version, v.stage) for v in env.registry.versions(model)]

    assert stages("churn") == [("v11", "Archived"), ("v12", "Archived"), ("v13", "Production")]
    assert stages("recommendations") == [("v7", "Archived"), ("v8", "Production")]
    assert stages("credit-score") == [("v4", "Archived"), ("v5", "Production")]
    assert stages("fraud") == [("v20", "Archived"), ("v21", "Production"), ("v22", "Canary")]
    assert stages("pricing") == [("v2", "Archived"), ("v3", "Production")]
    for model in MODELS:
        versions = env.registry.versions(model)
        assert [v.created_at for v in versions] == sorted(v.created_at for v in versions)
        assert (
            env.registry.production_version(model)
            == versions[-1 if model != "fraud" else -2].version
        )
    with pytest.raises(NotFound):
        env.registry.versions("nope")
    with pytest.raises(NotFound):
        env.registry.version("churn", "v99")


def test_lineage_is_complete_and_consecutive_versions_differ(env):
    for model in MODELS:
        for v in env.registry.versions(model):
            lin = v.lineage
            assert len(lin.code_commit) == 40 and lin.data_snapshot_hash and lin.data_description
            assert lin.data_sources and lin.feature_version and lin.feature_importance
            assert lin.params and lin.environment["python"] and lin.environment["packages"]
            assert len(lin.artifact_hash) == 64 and lin.validation_metrics
            assert lin.gates_passed
            assert env.registry.artifact_hash(model, v.version) == lin.artifact_hash
    p2, p3 = (v.lineage for v in env.registry.versions("pricing"))
    assert p2.code_commit != p3.code_commit
    assert p2.environment["packages"]["numpy"] != p3.environment["packages"]["numpy"]
    assert p2.params == p3.params
    c4, c5 = (v.lineage for v in env.registry.versions("credit-score"))
    assert set(c5.data_sources) - set(c4.data_sources) == {"partner-x.income_feed_v2"}
    r7, r8 = (v.lineage for v in env.registry.versions("recommendations"))
    assert r7.params != r8.params and r7.data_sources == r8.data_sources


def test_stage_history_tells_how_versions_got_there(env):
    hist = env.registry.stage_history("pricing")
    assert [h.at for h in hist] == sorted(h.at for h in hist)
    v3 = [(h.from_stage, h.to_stage) for h in hist if h.version == "v3"]
    assert v3 == [("None", "Staging"), ("Staging", "Canary"), ("Canary", "Production")]
    promoted = next(h for h in hist if h.version == "v3" and h.to_stage == "Production")
    assert promoted.at == START - timedelta(hours=3)
    archived = next(h for h in hist if h.version == "v2" and h.to_stage == "Archived")
    assert archived.at == promoted.at
    for model in MODELS:
        for h in env.registry.stage_history(model):
            assert h.at < START and h.from_stage in STAGES and h.to_stage in STAGES


def test_pointer_stages_tags_and_artifact_corruption(env):
    reg = env.registry
    reg.set_production("churn", "v12", actor="oncall", reason="rollback INC-1")
    assert reg.production_version("churn") == "v12"
    assert reg.version("churn", "v13").stage == "Production"  # pointer and stages separate
    last = reg.stage_history("churn")[-1]
    assert (last.version, last.actor, last.at) == ("v12", "oncall", START)
    assert "v13 → v12" in last.reason and "rollback INC-1" in last.reason
    reg.transition_stage("fraud", "v22", "Archived", actor="oncall", reason="latency")
    assert reg.version("fraud", "v22").stage == "Archived"
    assert reg.stage_history("fraud")[-1].to_stage == "Archived"
    with pytest.raises(InvalidInput):
        reg.transition_stage("fraud", "v22", "Retired", actor="x")
    reg.tag_version("fraud", "v21", "incident", "INC-7")
    assert reg.version("fraud", "v21").tags["incident"] == "INC-7"
    good = reg.artifact_hash("pricing", "v3")
    bad = env.world.corrupt_artifact("pricing", "v3")
    assert reg.artifact_hash("pricing", "v3") == bad != good
    assert reg.version("pricing", "v3").lineage.artifact_hash == good


def test_routes_and_fallback_ladder(env):
    for model in MODELS:
        prod = env.registry.production_version(model)
        assert env.traffic.routes(model) == {prod: 100.0}
    ladder = env.traffic.fallbacks("fraud")
    assert [(f.level, f.route) for f in ladder] == [
        ("previous", "v20"),
        ("rules", FALLBACK_RULES),
        ("manual", FALLBACK_MANUAL),
    ]
    assert env.traffic.fallbacks("pricing")[0].route == "v2"
    env.registry.set_production("churn", "v12", actor="t", reason="r")
    assert env.traffic.fallbacks("churn")[0].route == "v11"
    assert env.traffic.batch_paused("churn") is False
    with pytest.raises(NotFound):
        env.traffic.routes("nope")


def test_plugin_roles_share_one_world_in_the_data_dir(tmp_path, template):
    ctx = PluginContext("demo", tmp_path / "data", clock=ManualClock(START))
    target = tmp_path / "data" / "embedded-demo.db"
    target.parent.mkdir()
    target.write_bytes(Path(template).read_bytes())  # skip seeding: same world
    backends = {role: f(ctx, {}) for role, f in plugin.roles.items()}
    assert isinstance(backends["registry"], Registry)
    assert isinstance(backends["metrics"], Metrics)
    assert isinstance(backends["traffic"], Traffic)
    assert isinstance(backends["predictions"], PredictionLog)
    assert isinstance(backends["world"], World)
    world = ctx.shared["embedded"]
    assert backends["world"] is world and backends["traffic"].world is world
    assert world.path == target
    assert "batch" in backends["traffic"].capabilities
    assert {"tags", "artifact_hash", "stage_history"} <= backends["registry"].capabilities
    assert set(plugin.options["metrics"]) >= {"path", "seed", "speed", "thresholds"}
    for backend in backends.values():
        backend.close()
        backend.close()
    assert backends["registry"].models()  # reconnects after close


def test_plugin_options_are_validated(tmp_path):
    ctx = PluginContext("x", tmp_path, clock=ManualClock(START))
    with pytest.raises(ConfigError):
        plugin.roles["metrics"](ctx, {"seed": "seven"})
    with pytest.raises(ConfigError):
        plugin.roles["metrics"](ctx, {"speed": -1})


def test_entry_point_names_the_plugin():
    eps = entry_points(group="rollbook.plugins")
    if not any(ep.name == "embedded" for ep in eps):
        pytest.skip("package not installed (pip install -e .)")
    assert next(ep for ep in eps if ep.name == "embedded").load() is plugin
