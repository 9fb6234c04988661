"""``rollbook serve`` as a command and as a process: it refuses to start without a token
(or with --insecure-no-token off loopback), picks a free port with --port 0, applies
concurrent deliveries of one group once, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading

import httpx
import pytest

from console.cli.main import main
from console.config import load
from console.store import open_store
from tests.serve.payloads import am_alert, body
from tests.serve.server import ServeProcess

pytestmark = pytest.mark.slow
NULLS = {"feature": "avg_order_value_90d", "signal": "positive_rate"}


def run(capsys, *args: str) -> tuple[int, str]:
    """Through the real entry point (``console.cli.main.main``): exit code, stderr."""
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err


def test_no_token_no_server(capsys, monkeypatch):
    monkeypatch.delenv("ROLLBOOK_SERVE_TOKEN", raising=False)
    code, err = run(capsys, "serve", "--port", "0")
    assert code == 3, err
    assert "$ROLLBOOK_SERVE_TOKEN is not set" in err
    assert "--insecure-no-token" in err  # the hint names the way out


def test_the_config_names_the_token_variable(capsys, rollbook_home, monkeypatch):
    (rollbook_home / "config.toml").write_text('[serve]\ntoken_env = "AM_WEBHOOK_TOKEN"\n')
    monkeypatch.setenv("ROLLBOOK_SERVE_TOKEN", "not this one")
    monkeypatch.delenv("AM_WEBHOOK_TOKEN", raising=False)
    code, err = run(capsys, "serve", "--port", "0")
    assert code == 3 and "$AM_WEBHOOK_TOKEN is not set" in err


def test_insecure_no_token_is_for_loopback_only(capsys, monkeypatch):
    monkeypatch.delenv("ROLLBOOK_SERVE_TOKEN", raising=False)
    code, err = run(capsys, "serve", "--host", "0.0.0.0", "--port", "0", "--insecure-no-token")
    assert code == 2 and "only for a loopback address" in err


def test_rollbook_help_does_not_import_the_web_stack():
    script = (
        "import sys\nfrom console.cli.main import main\n"
        "for argv in (['--help'], ['serve', '--help']):\n"
        "    sys.argv = ['rollbook', *argv]\n"
        "    try:\n        main()\n    except SystemExit:\n        pass\n"
        "print('LOADED', sorted({m.split('.')[0] for m in sys.modules}))\n"
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    loaded = [ln for ln in r.stdout.splitlines() if ln.startswith("LOADED")][0]
    assert "'click'" in loaded  # the probe sees imports
    for mod in ("starlette", "uvicorn", "anyio"):
        assert f"'{mod}'" not in loaded, f"rollbook --help imported {mod}"


def test_insecure_on_loopback_serves_and_sigterm_stops_it_cleanly(tmp_path):
    server = ServeProcess(tmp_path, "--insecure-no-token").start()
    try:
        assert "warning: no bearer token" in server.log()
        r = httpx.post(server.url + "/api/v1/alertmanager", content=body(am_alert(**NULLS)))
        assert r.status_code == 200 and r.json()["alerts"][0]["outcome"] == "opened"
        assert httpx.get(server.url + "/healthz").json()["status"] == "ok"
    finally:
        code = server.stop()
    assert code == 0, server.log()
    assert "rollbook serve: stopped" in server.log()
    assert len(server.requests_logged()) == 1


def test_concurrent_deliveries_of_one_group_open_one_incident(tmp_path):
    token = "concurrency-token"
    server = ServeProcess(tmp_path, token=token).start()
    results: list[dict] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def deliver():
        try:
            start.wait(timeout=30)
            r = httpx.post(
                server.url + "/api/v1/alertmanager",
                content=body(am_alert(**NULLS)),
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            results.append(r.json())
        except BaseException as exc:  # reported below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=deliver) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        server.stop()
    assert not errors, errors
    outcomes = sorted(res["alerts"][0]["outcome"] for res in results)
    assert outcomes == ["opened"] + ["repeat"] * 7, json.dumps(results)
    with open_store(load().data_dir) as store:
        assert len(store.list()) == 1
        assert len(store.events(store.list()[0].id, kind_prefix="alert.firing")) == 1


def test_a_port_in_use_is_a_clear_error(capsys, monkeypatch):
    monkeypatch.setenv("ROLLBOOK_SERVE_TOKEN", "t")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code, err = run(capsys, "serve", "--port", str(port))
    assert code == 1 and f"cannot listen on 127.0.0.1:{port}" in err
