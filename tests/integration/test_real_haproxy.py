"""The haproxy traffic plugin and the http probe against a real HAProxy and model servers."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.backends.plugin import PluginContext
from console.backends.types import FALLBACK_RULES
from console.errors import BackendError, InvalidInput
from tests.integration.realstack import MODEL, free_port, served_by, traffic_options, wait_until

pytestmark = pytest.mark.integration


def make(haproxy, **over):
    from plugins.haproxy import make_traffic

    opts = {k: v for k, v in traffic_options(haproxy, **over).items() if k != "plugin"}
    return make_traffic(PluginContext("local", Path("/tmp")), opts)


def test_routes_read_from_show_stat(haproxy_server):
    t = make(haproxy_server)
    assert t.routes(MODEL) == {"2": 100.0}
    assert served_by(haproxy_server, 20) == {"2": 20}


def test_set_routes_is_applied_and_read_back(haproxy_server):
    t = make(haproxy_server)
    t.set_routes(MODEL, {"1": 90, "2": 10}, actor="tester")
    assert t.routes(MODEL) == {"1": 90.0, "2": 10.0}
    seen = served_by(haproxy_server, 200)
    assert seen["1"] + seen["2"] == 200 and 170 <= seen["1"] <= 190
    t.set_routes(MODEL, {"1": 100}, actor="tester")
    assert t.routes(MODEL) == {"1": 100.0}
    assert served_by(haproxy_server, 200) == {"1": 200}
    stat = haproxy_server.runtime(f"show stat {MODEL} 4 -1")
    assert ",v2,0,0" in stat or "DRAIN" in stat  # v2 drained, not deleted


def test_bad_requests_change_nothing(haproxy_server):
    t = make(haproxy_server)
    with pytest.raises(InvalidInput):
        t.set_routes(MODEL, {"1": 50.5, "2": 49.5}, actor="tester")
    with pytest.raises(InvalidInput):
        t.set_routes(MODEL, {"9": 100}, actor="tester")
    assert t.routes(MODEL) == {"2": 100.0}


def test_a_down_server_is_not_counted_and_the_change_is_refused(haproxy_server, model_servers):
    t = make(haproxy_server)
    model_servers["1"].stop()
    assert "cannot reach" in t.probe(MODEL, "1").detail  # the http probe sees it at once
    wait_until(  # HAProxy after `fall 2` failed checks, 1 s apart
        lambda: "is DOWN" in t.probe(MODEL, "1").detail,
        timeout=15,
        what="HAProxy sees v1 DOWN",
        interval=0.3,
    )
    with pytest.raises(BackendError, match="reads back"):
        t.set_routes(MODEL, {"1": 100}, actor="tester")


def test_probe_checks_health_and_a_sample_prediction(haproxy_server, model_servers):
    t = make(haproxy_server)
    h = t.probe(MODEL, "1")
    assert h.healthy and "version 1" in h.detail and h.latency_ms > 0
    assert t.probe(MODEL, FALLBACK_RULES).healthy
    # a config that maps version 1 to the server running version 2: the probe notices
    swapped = make(
        haproxy_server,
        models={MODEL: {"backend": MODEL, "versions": {"1": "v2", "2": "v1"}}},
    )
    bad = swapped.probe(MODEL, "1")
    assert not bad.healthy and "serves version 2, expected 1" in bad.detail
    model_servers["1"].admin(delay_ms=3000)
    slow = t.probe(MODEL, "1")
    assert not slow.healthy and "did not answer within 2s" in slow.detail


def test_fallback_ladder_and_kill_switch(haproxy_server, real_ws):
    from console.actions.killswitch import killswitch, restore

    ladder = real_ws.backends.traffic.fallbacks(MODEL)
    assert [(f.level, f.route) for f in ladder] == [("previous", "1"), ("rules", FALLBACK_RULES)]
    res = killswitch(real_ws, MODEL, level="rules")
    assert res.status == "applied", res.message
    assert real_ws.backends.traffic.routes(MODEL) == {FALLBACK_RULES: 100.0}
    assert served_by(haproxy_server, 30) == {"rules": 30}
    back = restore(real_ws, MODEL)
    assert back.status == "applied", back.message
    assert real_ws.backends.traffic.routes(MODEL) == {"2": 100.0}


def test_runtime_api_over_tcp(tmp_path, real, model_servers):
    from tests.integration.realstack import HaproxyServer

    if real.haproxy is None:
        pytest.skip("haproxy is not installed")
    port = free_port()
    own = HaproxyServer(
        tmp_path / "h", {MODEL: {"v1": model_servers["1"].port}}, {MODEL: {"v1": 100}}
    )
    cfg = own.write_config()
    cfg.write_text(
        cfg.read_text().replace(
            "    stats timeout 30s",
            f"    stats socket ipv4@127.0.0.1:{port} level admin\n    stats timeout 30s",
        )
    )
    own.write_config = lambda: cfg  # keep the TCP socket line
    own.launch()
    try:
        own.wait()
        t = make(own, socket=f"127.0.0.1:{port}", models={MODEL: {"versions": {"1": "v1"}}})
        assert t.routes(MODEL) == {"1": 100.0}
    finally:
        own.stop()


def test_socket_gone_is_a_clear_error(tmp_path, real, model_servers):
    from tests.integration.realstack import HaproxyServer

    if real.haproxy is None:
        pytest.skip("haproxy is not installed")
    own = HaproxyServer(
        tmp_path / "h",
        {MODEL: {"v1": model_servers["1"].port, "v2": model_servers["2"].port}},
        {MODEL: {"v2": 100}},
    ).launch()
    own.wait()
    t = make(own)
    assert t.routes(MODEL) == {"2": 100.0}
    own.stop()
    with pytest.raises(BackendError, match="cannot reach the HAProxy runtime API") as err:
        t.routes(MODEL)
    assert "level admin" in err.value.hint
    with pytest.raises(BackendError):
        t.set_routes(MODEL, {"1": 100}, actor="tester")
