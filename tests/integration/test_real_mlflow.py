"""The mlflow registry plugin against a real MLflow server."""

from __future__ import annotations

import pytest

from console.errors import ActionRefused, BackendError, NotFound
from plugins.http_common.api import JsonApi
from plugins.mlflow.registry import API, MlflowRegistry

pytestmark = pytest.mark.integration


@pytest.fixture
def registry(mlflow_server, churn_registry):
    reg = MlflowRegistry(JsonApi("MLflow", mlflow_server.url, timeout=10))
    yield reg
    reg.close()


def test_models_versions_and_lineage_from_tags(registry):
    models = {m.name: m for m in registry.models()}
    assert models["churn"].owner == "retention-ds"
    assert models["churn"].features == ("tenure", "aov_90d")
    versions = registry.versions("churn")
    assert [v.version for v in versions] == ["1", "2"]  # oldest first
    v1, v2 = versions
    assert v1.lineage.code_commit == "4f1c2ab" and v2.lineage.code_commit == "9e77d10"
    assert v2.lineage.params == {"depth": 7}
    assert v2.lineage.validation_metrics == {"auc": 0.88}
    assert v2.lineage.gates_passed and v2.lineage.artifact_hash == "sha256:a2"
    assert (v1.stage, v2.stage) == ("None", "Production")
    assert v1.created_at <= v2.created_at and v1.created_at.tzinfo is not None
    assert registry.version("churn", "1").lineage == v1.lineage


def test_production_pointer_is_the_alias(registry):
    assert registry.production_version("churn") == "2"
    registry.set_production("churn", "1", actor="alice", reason="drill")
    assert registry.production_version("churn") == "1"
    registry.flush()  # the audit tags are written off the critical path
    v1, v2 = registry.versions("churn")
    assert (v1.stage, v2.stage) == ("Production", "None")
    assert v1.tags["rollbook.promoted"].endswith("by alice: drill")
    assert v2.tags["rollbook.demoted"].endswith("by alice")
    assert registry.warnings == []


def test_missing_alias_real_400_then_stage_fallback(registry, churn_registry):
    registry.clear_alias("churn")  # DELETE with a JSON body: MLflow ignores query params
    registry.clear_alias("churn")  # a second time is no error
    # the real server answers 400 INVALID_PARAMETER_VALUE for the missing alias
    api = churn_registry["api"]
    with pytest.raises(BackendError) as err:
        api.get(f"{API}/registered-models/alias", {"name": "churn", "alias": "champion"})
    assert err.value.status == 400 and err.value.code == "INVALID_PARAMETER_VALUE"
    assert registry.production_version("churn") is None
    # an older setup promoting with stages still has a production version
    api.post(
        f"{API}/model-versions/transition-stage",
        {"name": "churn", "version": "1", "stage": "Production", "archive_existing_versions": True},
    )
    assert registry.production_version("churn") == "1"
    assert [v.stage for v in registry.versions("churn")] == ["Production", "None"]


def test_stage_pointer_mode(mlflow_server, churn_registry):
    reg = MlflowRegistry(JsonApi("MLflow", mlflow_server.url, timeout=10), pointer="stage")
    assert reg.production_version("churn") is None  # nothing in the Production stage yet
    reg.set_production("churn", "2", actor="bob", reason="promote")
    assert reg.production_version("churn") == "2"
    reg.set_production("churn", "1", actor="bob", reason="rollback")
    assert reg.production_version("churn") == "1"
    stages = {v.version: v.stage for v in reg.versions("churn")}
    assert stages == {"1": "Production", "2": "Archived"}
    reg.close()


def test_rollbook_stages_and_incident_tags(registry):
    registry.transition_stage("churn", "1", "Canary", actor="alice")
    assert registry.version("churn", "1").stage == "Canary"
    with pytest.raises(ActionRefused, match="alias"):
        registry.transition_stage("churn", "1", "Production", actor="alice")
    registry.tag_incident("churn", "2", "INC-0007", "rolled back from")
    assert registry.version("churn", "2").tags["rollbook.incident.INC-0007"] == "rolled back from"


def test_unknown_model_and_version_are_not_found(registry):
    with pytest.raises(NotFound):
        registry.versions("nosuchmodel")
    with pytest.raises(NotFound):
        registry.production_version("nosuchmodel")
    with pytest.raises(NotFound):
        registry.version("churn", "99")
    with pytest.raises(NotFound):
        registry.set_production("churn", "99", actor="a", reason="")
    assert registry.production_version("churn") == "2"  # untouched


def test_unreachable_mlflow_is_a_clear_error():
    from tests.integration.realstack import free_port

    reg = MlflowRegistry(JsonApi("MLflow", f"http://127.0.0.1:{free_port()}", timeout=2))
    with pytest.raises(BackendError, match="cannot reach MLflow") as err:
        reg.models()
    assert "running" in err.value.hint


def test_a_reference_profile_is_kept_with_the_version_and_read_on_another_machine(
    registry, tmp_path
):
    """`rollbook profile build` keeps the profile with the version in MLflow (an artifact
    through the proxy, named by the rollbook.profile tag); a console with no local copy reads
    it from there and keeps it."""
    import numpy as np
    import pandas as pd

    from console.backends.aggregates import LogWindow
    from console.diagnostics.io import file_aggregates
    from console.diagnostics.profile_store import (
        TAG,
        load_profile,
        profile_path,
        publish_profile,
    )
    from console.diagnostics.pushdown import fit_log_profile

    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"tenure": rng.normal(14, 3, 400), "plan": ["basic", "pro"] * 200})
    frame.to_parquet(tmp_path / "reference.parquet")
    agg = file_aggregates(tmp_path / "reference.parquet")
    try:
        fitted = fit_log_profile(
            agg, LogWindow(), ["tenure", "plan"], categorical=["plan"], keep_values=False
        )
    finally:
        agg.close()
    mine, theirs = tmp_path / "ana-data", tmp_path / "ben-data"
    path, uri = publish_profile(registry, mine, "prod", "churn", "2", fitted)
    assert path.exists() and uri == "mlflow-artifacts:/rollbook/churn/2/profile.json"
    assert registry.version("churn", "2").tags[TAG] == uri
    read = load_profile(theirs, "prod", "churn", "2", registry)
    assert read.to_json() == fitted.to_json()
    assert profile_path(theirs, "prod", "churn", "2").read_text() == path.read_text()
    with pytest.raises(NotFound):  # version 1 has none, here or in MLflow
        load_profile(theirs, "prod", "churn", "1", registry)
