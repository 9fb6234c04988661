"""Record what the REAL Alertmanager sends to Slack and PagerDuty, as test fixtures.

Run once (it needs Debian's ``prometheus-alertmanager``)::

    .venv/bin/python -m tests.notify.capture_alertmanager

It starts the Slack and PagerDuty STUBS (``tests/notify/stubs.py``) on free loopback ports,
starts Alertmanager on another free port with ``pagerduty_configs`` and ``slack_configs``
(an incoming webhook, and ``chat.postMessage`` with a bot token) pointing at them, posts one
alert, then its resolution, and writes every request Alertmanager made to
``tests/notify/fixtures/alertmanager_*.json`` (method, path, the headers that matter, the
JSON body; the stub's fake credentials only). The tests compare Rollbook's requests with
these: the same required fields, the same auth header, the same content type.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from tests.notify.stubs import (
    PD_ROUTING_KEY,
    SLACK_TOKEN,
    PagerDutyStub,
    Request,
    SlackStub,
    free_port,
)

FIXTURES = Path(__file__).parent / "fixtures"
KEEP_HEADERS = ("content-type", "authorization", "user-agent")

CONFIG = """\
route:
  receiver: everyone
  group_by: [alertname, model]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: everyone
    pagerduty_configs:
      - routing_key: {routing_key}
        url: {pd_url}
        send_resolved: true
        severity: critical
        source: rollbook-fixture
        details:
          model: '{{{{ .CommonLabels.model }}}}'
    slack_configs:
      - api_url: {webhook_url}
        channel: '#ml-incidents'
        send_resolved: true
      - api_url: {api_url}/chat.postMessage
        channel: C0STUB
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: {token}
"""


def _binary() -> str:
    for name in ("prometheus-alertmanager", "alertmanager"):
        found = shutil.which(name, path="/usr/bin:/usr/sbin:/usr/local/bin")
        if found:
            return found
    raise SystemExit("prometheus-alertmanager is not installed (apt-get install it)")


def _post_alert(port: int, *, resolved: bool) -> None:
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    alert = {
        "labels": {
            "alertname": "FeatureNullRateHigh",
            "model": "churn",
            "severity": "critical",
            "feature": "avg_order_value_90d",
        },
        "annotations": {"summary": "feature avg_order_value_90d null rate 94.2% (threshold 2.0%)"},
        "startsAt": now,
    }
    if resolved:
        alert["endsAt"] = now
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v2/alerts",
        data=json.dumps([alert]).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200, resp.status


def _wait(cond, what: str, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.2)
    raise SystemExit(f"Alertmanager did not {what} within {timeout:g} s")


def _keep(req: Request, service: str) -> dict:
    return {
        "service": service,
        "method": req.method,
        "path": req.path,
        "headers": {k: v for k, v in req.headers.items() if k in KEEP_HEADERS},
        "body": req.body,
    }


def main() -> int:
    slack, pd = SlackStub().start(), PagerDutyStub().start()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "alertmanager.yml"
        cfg.write_text(
            CONFIG.format(
                routing_key=PD_ROUTING_KEY,
                pd_url=pd.enqueue_url,
                webhook_url=slack.webhook_url,
                api_url=slack.api_url,
                token=SLACK_TOKEN,
            )
        )
        log = open(Path(tmp) / "am.log", "wb")  # noqa: SIM115 - the child keeps it open
        proc = subprocess.Popen(
            [
                _binary(),
                f"--config.file={cfg}",
                f"--storage.path={Path(tmp) / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:

            def ready() -> bool:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=2):
                        return True
                except OSError:
                    return False

            _wait(ready, "start")
            _post_alert(port, resolved=False)
            _wait(lambda: len(pd.requests) >= 1 and len(slack.requests) >= 2, "notify (firing)")
            _post_alert(port, resolved=True)
            _wait(lambda: len(pd.requests) >= 2 and len(slack.requests) >= 4, "notify (resolved)")
            version = subprocess.run(
                [_binary(), "--version"], capture_output=True, text=True, check=False
            ).stdout.splitlines()[0]
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            log.close()
            slack.stop()
            pd.stop()
    FIXTURES.mkdir(exist_ok=True)
    pd_reqs = [_keep(r, "pagerduty") for r in pd.requests]
    webhook = [_keep(r, "slack-webhook") for r in slack.requests if r.path.startswith("/services")]
    api = [_keep(r, "slack-api") for r in slack.requests if r.path.startswith("/api")]
    about = {
        "recorded_with": version,
        "recorded_at": datetime.now(UTC).isoformat(),
        "stub_violations": slack.violations + pd.violations,
    }
    for name, reqs in (
        ("alertmanager_pagerduty.json", pd_reqs),
        ("alertmanager_slack_webhook.json", webhook),
        ("alertmanager_slack_postmessage.json", api),
    ):
        (FIXTURES / name).write_text(
            json.dumps({**about, "requests": reqs}, indent=2, sort_keys=True) + "\n"
        )
        print(f"wrote {FIXTURES / name} ({len(reqs)} requests)")
    if about["stub_violations"]:
        print("the stubs found violations in Alertmanager's requests:", about["stub_violations"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
