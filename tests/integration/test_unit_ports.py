"""A server the tests start is ready only when it is *ours* that answers on its port.

A free port is chosen by binding port 0 and letting go of it; another program on the machine
(another engineer's stack, another suite) can take it before the server binds it. Then the
readiness probe is answered by that program — it happened: another stack's Alertmanager
answered a test's probe. ``wait_until(..., port=)`` now checks who listens on the port (Linux
``/proc``) and fails naming the stranger, instead of running the test against it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.integration.realstack import ROOT

sys.path.insert(0, str(ROOT / "examples" / "local-stack"))

from processes import Process, free_port, http_get, listeners, wait_until  # noqa: E402

pytestmark = pytest.mark.skipif(
    not Path("/proc/net/tcp").exists(), reason="needs Linux /proc to see who listens"
)


def test_a_probe_answered_by_another_program_is_not_our_server_ready(tmp_path):
    port = free_port()
    stranger = Process(
        "stranger",
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        tmp_path / "stranger.log",
    ).start()
    ours = Process(
        "alertmanager", [sys.executable, "-c", "import time; time.sleep(60)"], tmp_path / "ours.log"
    ).start()
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until(
            lambda: http_get(url)[0] == 200,
            timeout=20,
            what="the stranger",
            proc=stranger,
            port=port,
        )
        assert stranger.pid in (listeners(port) or set())
        with pytest.raises(RuntimeError, match=f"port {port} is answered by another program"):
            wait_until(
                lambda: http_get(url)[0] == 200,
                timeout=5,
                what="Alertmanager",
                proc=ours,
                port=port,
            )
    finally:
        stranger.stop()
        ours.stop()
