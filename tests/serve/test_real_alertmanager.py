"""End to end with the real Alertmanager (Debian's ``prometheus-alertmanager``): its
webhook receiver, configured as the README says (the YAML is read from the README: bearer
token from ``credentials_file``, ``send_resolved: true``), posts to ``rollbook serve``
running as a subprocess. An alert posted to Alertmanager becomes one incident; its repeats
(a 1 s repeat_interval) open no second one; its resolution is recorded on the incident with
the value at resolution. Both servers on free ports, stopped by PID."""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml

from console.config import load
from console.store import open_store
from console.workspace import open_workspace
from tests.serve.server import ServeProcess

from processes import PROGRAMS, Process, free_port, wait_until, which  # isort: skip  (path: server.py)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOKEN = "am-e2e-7d41c0"
LABELS = {
    "alertname": "FeatureNullRateHigh",
    "model": "churn",
    "severity": "warning",
    "feature": "avg_order_value_90d",
    "signal": "positive_rate",
}


README = Path(__file__).resolve().parents[2] / "README.md"


def readme_receiver() -> dict:
    """The Alertmanager config the README tells people to paste."""
    text = README.read_text()
    block = text[text.index("The receiver to paste") :]
    block = block[block.index("```yaml") + len("```yaml") :]
    return yaml.safe_load(block[: block.index("```")])


def alertmanager_config(webhook_url: str, token_file: Path) -> str:
    """The README's receiver, pointed at this test's server and token file, with intervals
    short enough for a test (a 1 s repeat_interval)."""
    cfg = readme_receiver()
    cfg["route"].update(group_wait="1s", group_interval="1s", repeat_interval="1s")
    (hook,) = cfg["receivers"][0]["webhook_configs"]
    assert hook["send_resolved"] is True
    assert hook["http_config"]["authorization"]["type"] == "Bearer"
    hook["url"] = webhook_url
    hook["http_config"]["authorization"]["credentials_file"] = str(token_file)
    return yaml.safe_dump(cfg)


def test_the_readme_receiver_is_a_valid_alertmanager_config(tmp_path):
    amtool = which("amtool")
    if amtool is None:
        pytest.skip("amtool is not installed (it comes with prometheus-alertmanager)")
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(readme_receiver()))
    r = subprocess.run([amtool, "check-config", str(path)], capture_output=True, text=True)
    assert r.returncode == 0 and "SUCCESS" in r.stdout, r.stdout + r.stderr


@pytest.fixture
def serve(tmp_path):
    server = ServeProcess(tmp_path / "serve", token=TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def alertmanager(tmp_path, serve):
    binary = PROGRAMS["alertmanager"]()
    if binary is None:
        pytest.skip("prometheus-alertmanager is not installed (apt-get install it; .ci/run does)")
    workdir = tmp_path / "alertmanager"
    workdir.mkdir()
    token_file = workdir / "rollbook.token"
    token_file.write_text(TOKEN + "\n")  # Alertmanager trims the trailing newline
    cfg = workdir / "alertmanager.yml"
    cfg.write_text(alertmanager_config(serve.url + "/api/v1/alertmanager", token_file))
    port = free_port()
    proc = Process(
        "alertmanager",
        [
            binary,
            f"--config.file={cfg}",
            f"--storage.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        workdir / "alertmanager.log",
    ).start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: httpx.get(url + "/-/ready", timeout=2).status_code == 200,
            timeout=30,
            what="Alertmanager",
            proc=proc,
            port=port,
        )
        yield url, proc
    finally:
        proc.stop()


def post_alert(am_url: str, starts: datetime, ends: datetime) -> None:
    r = httpx.post(
        am_url + "/api/v2/alerts",
        json=[
            {
                "labels": LABELS,
                "annotations": {"summary": "churn: null rate 94.2%", "value": "0.942"},
                "startsAt": starts.isoformat(),
                "endsAt": ends.isoformat(),
                "generatorURL": "http://prometheus.example/graph",
            }
        ],
        timeout=5,
    )
    assert r.status_code == 200, r.text


def incidents():
    with open_store(load().data_dir) as store:
        return [(i, store.events(i.id, kind_prefix="alert.")) for i in store.list()]


def test_an_alert_through_alertmanager_is_one_incident_and_its_resolution_is_recorded(
    serve, alertmanager
):
    am_url, am = alertmanager
    # The server runs the demo environment, whose metrics (the embedded world) answer on the
    # world's own clock: the alert starts two minutes before the world's now, so its signal
    # can be read at resolution, as Prometheus would answer in production.
    with open_workspace() as ws:
        started = ws.now().replace(microsecond=0) - timedelta(minutes=2)
    post_alert(am_url, started, datetime.now(UTC) + timedelta(hours=1))

    def delivered(n: int) -> bool:
        return len([ln for ln in serve.requests_logged() if '" 200 ' in ln]) >= n

    # the first notification after group_wait, then a resend each repeat_interval
    wait_until(lambda: delivered(1), timeout=30, what="first webhook delivery", proc=am)
    ((inc, events),) = incidents()
    assert inc.model == "churn" and inc.runbook == "null-feature"
    assert inc.detected_at == started  # Alertmanager's startsAt, to the second
    assert [e.kind for e in events] == ["alert.firing"]
    fingerprint = events[0].payload["fingerprint"]
    assert len(fingerprint) == 16  # Alertmanager's own
    wait_until(lambda: delivered(3), timeout=30, what="two repeats", proc=am)
    assert all("401" not in ln for ln in serve.requests_logged())  # the token file was used
    assert "repeat " + inc.id in serve.requests_logged()[-1]
    assert [(i.id, [e.kind for e in evs]) for i, evs in incidents()] == [(inc.id, ["alert.firing"])]

    # resolved: the same alert again, ending in the past
    post_alert(am_url, started, datetime.now(UTC) - timedelta(seconds=1))

    def resolved() -> bool:
        return any(e.kind == "alert.resolved" for _i, evs in incidents() for e in evs)

    wait_until(resolved, timeout=30, what="the resolution delivered", proc=am)
    ((after, events),) = incidents()
    assert after.id == inc.id and after.is_open  # the alert resolved, not the incident
    kinds = [e.kind for e in events]
    assert kinds == ["alert.firing", "alert.resolved"]
    res = events[1].payload
    assert res["fingerprint"] == fingerprint and res["state"] == "resolved"
    assert res["signal"] == "positive_rate" and isinstance(res["value"], float)
    assert res["firing_value"] == pytest.approx(0.942)
    # whatever Alertmanager sends after the resolution, nothing is recorded twice
    time.sleep(3)
    ((_, events),) = incidents()
    assert [e.kind for e in events] == ["alert.firing", "alert.resolved"]
    assert any(" resolved " + inc.id in ln for ln in serve.requests_logged())
