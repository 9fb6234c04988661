"""Real backends under real faults (MLflow, HAProxy, the model servers — the real programs):
the outcome and the exit code of an action come from reading production back; a target that
hangs after traffic moved to it is reverted; a registry set up with the plain `mlflow` client
works; the traffic half of an undo works with MLflow down."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess

import pytest

from plugins.mlflow.registry import MlflowRegistry
from tests.integration.realstack import MODEL, served_by

pytestmark = pytest.mark.integration


@pytest.fixture
def cli(capsys):
    """``rollbook ARGS…`` through the real entry point: ``(exit code, stdout)``."""
    from console.cli.main import main

    def run(*args: str) -> tuple[int, str]:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code or 0
        return code, capsys.readouterr().out

    return run


def test_haproxy_gone_right_after_the_traffic_step_is_partial_not_nothing_changed(
    real_ws, haproxy_server, monkeypatch, cli
):
    original = MlflowRegistry.set_production

    def haproxy_dies_then_move(self, *a, **kw):  # the traffic step is done and read back
        haproxy_server.stop()
        return original(self, *a, **kw)

    monkeypatch.setattr(MlflowRegistry, "set_production", haproxy_dies_then_move)
    try:
        code, out = cli("rollback", MODEL, "--to", "1", "--yes", "--timeout", "5")
    finally:
        monkeypatch.undo()
        haproxy_server.launch()
        haproxy_server.wait()
    # MLflow's pointer and HAProxy's weights both moved; the verification could not read
    # HAProxy: the state is partly unknown — exit 6 with both commands, never 5
    assert code == 6, out
    assert "⚠ PARTIALLY APPLIED: unknown: registry 1" in out
    assert f"finish: rollbook rollback {MODEL} --to 1 --yes" in out
    assert (
        f"undo:   rollbook traffic {MODEL} 2=100 --yes && rollbook pointer {MODEL} 2 --yes" in out
    )
    assert real_ws.backends.registry.production_version(MODEL) == "1"


def test_a_target_that_hangs_after_traffic_moved_is_reverted(
    real_ws, haproxy_server, model_servers, monkeypatch, cli
):
    original = MlflowRegistry.set_production

    def target_hangs_then_move(self, *a, **kw):  # traffic is on 1 now
        model_servers["1"].admin(delay_ms=5000)  # the probe's timeout is 2 s
        return original(self, *a, **kw)

    monkeypatch.setattr(MlflowRegistry, "set_production", target_hangs_then_move)
    code, out = cli("rollback", MODEL, "--to", "1", "--yes", "--timeout", "10")
    monkeypatch.undo()
    model_servers["1"].admin(delay_ms=0)
    assert code == 5, out
    assert "✖ FAILED (undone): 1 did not answer its health probe after traffic moved" in out
    assert real_ws.backends.traffic.routes(MODEL) == {"2": 100.0}
    assert real_ws.backends.registry.production_version(MODEL) == "2"
    assert served_by(haproxy_server, 20) == {"2": 20}  # requests are answered again


def mlflow_client_script(
    url: str, versions: int = 2, promoted: dict[str, str] | None = None
) -> str:
    """Register ``versions`` versions with the plain ``mlflow`` client, the ``champion`` alias
    on the newest; ``promoted`` sets ``rollbook.promoted`` tags (version → value) as an
    earlier Rollbook pointer move would have left them."""
    return f"""
import mlflow
from mlflow import MlflowClient

mlflow.set_tracking_uri({url!r})
c = MlflowClient()
try:
    c.delete_registered_model({MODEL!r})
except Exception:
    pass
c.create_registered_model({MODEL!r})
for i in range(1, {versions} + 1):
    c.create_model_version({MODEL!r}, source=f"s3://models/{MODEL}/{{i}}")
for v, value in {promoted or {}!r}.items():
    c.set_model_version_tag({MODEL!r}, v, "rollbook.promoted", value)
c.set_registered_model_alias({MODEL!r}, "champion", "{versions}")
"""


def test_a_registry_set_up_with_the_plain_mlflow_client_plans_the_previous_version(
    real_ws, mlflow_server, cli
):
    python = os.path.join(os.path.dirname(os.environ["ROLLBOOK_MLFLOW_BIN"]), "python")
    subprocess.run(
        [python, "-c", mlflow_client_script(mlflow_server.url)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    code, out = cli("rollback", MODEL, "--dry-run", "--json")
    plan = json.loads(out)
    assert code == 0, out
    assert (plan["plan"]["from"], plan["plan"]["to"]) == ("2", "1")
    gates = next(c for c in plan["checks"] if c["name"] == "gates")
    assert gates["ok"] and "not recorded" in gates["detail"]
    assert plan["status"] == "dry-run" and plan["plan"]["rule"] == "previous_production"


def test_the_promoted_tags_name_the_version_that_served_before_version_order_does(
    real_ws, mlflow_server, cli
):
    # 1 served (Rollbook tagged it when it moved the pointer); 2 was registered and never
    # served; the plain client moved the alias to 3. Version order alone would say 2.
    python = os.path.join(os.path.dirname(os.environ["ROLLBOOK_MLFLOW_BIN"]), "python")
    script = mlflow_client_script(
        mlflow_server.url,
        versions=3,
        promoted={"1": "2026-11-30T09:00:00+00:00 by ana: release"},
    )
    subprocess.run([python, "-c", script], check=True, capture_output=True, timeout=120)
    history = real_ws.backends.registry.stage_history(MODEL)
    assert [(c.version, c.to_stage, c.actor) for c in history] == [("1", "Production", "ana")]
    code, out = cli("rollback", MODEL, "--dry-run", "--json")
    plan = json.loads(out)
    assert code == 0, out
    assert (plan["plan"]["from"], plan["plan"]["to"]) == ("3", "1")


def test_with_mlflow_stopped_the_traffic_half_of_the_undo_works(
    real_ws, mlflow_server, haproxy_server, cli
):
    code, out = cli("rollback", MODEL, "--to", "1", "--yes", "--json")
    assert code == 0, out
    undo = json.loads(out)["plan"]["undo"]
    traffic_undo, pointer_undo = (c.strip().split()[1:] for c in undo.split("&&"))
    mlflow_server.stop()
    try:
        code, out = cli(*traffic_undo, "--timeout", "5")
        assert code == 0, out  # moving traffic needs only HAProxy
        assert real_ws.backends.traffic.routes(MODEL) == {"2": 100.0}
        code, _ = cli(*pointer_undo, "--timeout", "3")
        assert code == 5  # the registry half waits for the registry
    finally:
        with contextlib.suppress(Exception):
            mlflow_server.launch()
        mlflow_server.wait()
    code, out = cli("audit", "pending", "--json")
    [split] = json.loads(out)["splits"]
    assert (
        split["production"] == "1" and split["reconcile"][0] == f"rollbook pointer {MODEL} 2 --yes"
    )
