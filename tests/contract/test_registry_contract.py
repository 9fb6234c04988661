"""The registry-plugin contract: the embedded registry and the real MLflow, the same tests;
actions through the real action core (``console.mitigation``)."""

from __future__ import annotations

import pytest

from console import mitigation
from console.enums import ActionKind, ActionStatus
from console.errors import NotFound, RollbookError
from tests.contract.helpers import run_printed


def test_models_and_versions_oldest_first(registry_case):
    c, r = registry_case, registry_case.registry
    assert c.model in [m.name for m in r.models()]
    versions = r.versions(c.model)
    names = [v.version for v in versions]
    assert names.index(c.old) < names.index(c.new)
    created = [v.created_at for v in versions]
    assert created == sorted(created) and all(t.tzinfo is not None for t in created)
    assert all(v.model == c.model for v in versions)
    assert r.version(c.model, c.new).version == c.new
    assert r.production_version(c.model) == c.new


def test_an_unknown_model_is_not_found(registry_case):
    with pytest.raises(NotFound):
        registry_case.registry.versions("no-such-model")


@pytest.mark.parametrize("unknown", ["999", "v99"])
def test_an_unknown_version_is_not_found(registry_case, unknown):
    with pytest.raises(NotFound):
        registry_case.registry.version(registry_case.model, unknown)
    with pytest.raises(NotFound):
        registry_case.registry.set_production(
            registry_case.model, unknown, actor="tester", reason="contract"
        )
    assert registry_case.registry.production_version(registry_case.model) == registry_case.new


def test_the_pointer_moves_and_reads_back(registry_case):
    c, r = registry_case, registry_case.registry
    r.set_production(c.model, c.old, actor="tester", reason="contract")
    assert r.production_version(c.model) == c.old
    r.set_production(c.model, c.new, actor="tester", reason="contract")
    assert r.production_version(c.model) == c.new


def test_a_pointer_to_an_unknown_version_is_refused_and_changes_nothing(registry_case):
    c, r = registry_case, registry_case.registry
    with pytest.raises(RollbookError):
        r.set_production(c.model, "999", actor="tester", reason="contract")
    assert r.production_version(c.model) == c.new


def test_a_stage_transition_reads_back(registry_case):
    c, r = registry_case, registry_case.registry
    before = r.version(c.model, c.old).stage
    r.transition_stage(c.model, c.old, "Staging", actor="tester", reason="contract")
    assert r.version(c.model, c.old).stage == "Staging"
    if "stage_history" in r.capabilities:
        last = r.stage_history(c.model)[-1]
        assert (last.version, last.to_stage) == (c.old, "Staging")
    r.transition_stage(c.model, c.old, before, actor="tester", reason="contract")
    assert r.version(c.model, c.old).stage == before


def test_tags_read_back_where_the_registry_keeps_them(registry_case):
    c, r = registry_case, registry_case.registry
    if "tags" not in r.capabilities:
        pytest.skip(f"{c.name} registry has no tags capability")
    r.tag_version(c.model, c.old, "rollbook.incident.INC-9", "contract")
    assert r.version(c.model, c.old).tags.get("rollbook.incident.INC-9") == "contract"


def test_the_pointer_action_through_the_core(registry_case):
    c = registry_case
    res = mitigation.run(c.ws, mitigation.Request(ActionKind.POINTER, c.model, version=c.old))
    assert res.status is ActionStatus.APPLIED, res.message
    assert c.registry.production_version(c.model) == c.old


def test_a_registry_failure_after_traffic_moved_is_partial_with_finish_and_undo(
    registry_case, capsys
):
    c = registry_case
    traffic = c.ws.backends.traffic
    with c.broken_pointer():
        res = mitigation.run(c.ws, mitigation.Request(ActionKind.ROLLBACK, c.model, to=c.old))
    assert res.status is ActionStatus.PARTIAL, res.message
    assert res.finish == f"rollbook rollback {c.model} --to {c.old} --yes"
    assert res.undo and f"rollbook pointer {c.model} {c.new}" in res.undo
    # traffic stays on the known-good target; the registry still names the old production
    assert traffic.routes(c.model) == {c.old: 100.0}
    assert c.registry.production_version(c.model) == c.new
    assert run_printed(res.finish, capsys) == 0, capsys.readouterr()
    assert c.registry.production_version(c.model) == c.old
    assert traffic.routes(c.model) == {c.old: 100.0}
