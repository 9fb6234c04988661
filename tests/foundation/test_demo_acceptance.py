"""Issue acceptance, through the real command line on a fresh ROLLBOOK_HOME: the demo shows
the fleet and one open churn incident naming avg_order_value_90d; running it twice does not
duplicate anything."""

import json
import sqlite3
import subprocess
import sys


def rollbook(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "console", *args], capture_output=True, text=True, timeout=300
    )


def test_demo_twice_then_status_and_incidents(rollbook_home):
    assert rollbook("demo", "--no-tui").returncode == 0
    status = json.loads(rollbook("status", "--json").stdout)
    models = {m["model"]: m for m in status["models"]}
    assert {"churn", "recommendations", "credit-score", "fraud"} <= set(models)
    assert models["churn"]["health"] == "critical"
    incidents = json.loads(rollbook("incidents", "--json").stdout)["incidents"]
    [inc] = [i for i in incidents if i["status"] not in ("resolved", "closed")]
    assert inc["model"] == "churn"
    assert any(
        "avg_order_value_90d" in (e.get("feature") or "") + e["summary"]
        for e in inc["data"]["evidence"]
    )
    events_before = len(
        json.loads(rollbook("incident", "show", inc["id"], "--json").stdout)["timeline"]
    )

    assert rollbook("demo", "--no-tui").returncode == 0  # again
    incidents2 = json.loads(rollbook("incidents", "--json").stdout)["incidents"]
    assert [i["id"] for i in incidents2] == [i["id"] for i in incidents]
    events_after = len(
        json.loads(rollbook("incident", "show", inc["id"], "--json").stdout)["timeline"]
    )
    assert events_after == events_before
    db = sqlite3.connect(rollbook_home / "data" / "embedded-demo.db")
    dupes = db.execute(
        "SELECT COUNT(*) FROM (SELECT model, version, signal, ts FROM metrics "
        "GROUP BY model, version, signal, ts HAVING COUNT(*) > 1)"
    ).fetchone()[0]
    assert dupes == 0
    assert db.execute("SELECT COUNT(*) FROM models").fetchone()[0] == len(models)
    assert db.execute("SELECT COUNT(*) FROM faults").fetchone()[0] == 1
