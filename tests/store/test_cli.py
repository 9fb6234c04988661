"""`rollbook audit verify` over the configured store names a missing last record and prints
the heads' digest to keep off-box."""

from __future__ import annotations

import json
import sqlite3

from click.testing import CliRunner

from console.cli.main import cli
from console.store.sqlite import SqliteStore
from tests.conftest import T0


def test_audit_verify_names_the_missing_last_record_and_prints_the_head(rollbook_home):
    with SqliteStore(rollbook_home / "data" / "incidents.db") as s:
        inc = s.create_incident(title="t", model="m", severity="SEV3", env="e", actor="a", at=T0)
        ev = s.append(inc.id, "note", "n", actor="a", at=T0)
        digest = s.verify_chain().head_hash
    r = CliRunner().invoke(cli, ["audit", "verify", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["head"] == {"seq": ev.seq, "hash": digest}
    assert out["chains"][inc.id] == {"position": 2, "seq": ev.seq, "hash": ev.hash}
    db = sqlite3.connect(rollbook_home / "data" / "incidents.db")
    db.executescript(f"DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq = {ev.seq};")
    db.close()
    r = CliRunner().invoke(cli, ["audit", "verify"])
    assert r.exit_code == 1
    assert f"record {ev.seq} (the last of {inc.id}) is missing" in r.output


def test_incident_follow_prints_each_new_event_as_json_lines(rollbook_home):
    import os
    import subprocess
    import sys
    import time

    with SqliteStore(rollbook_home / "data" / "incidents.db") as s:
        inc = s.create_incident(title="t", model="m", severity="SEV3", env="e", actor="a", at=T0)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "console",
                "incident",
                "follow",
                inc.id,
                "--json",
                "--count",
                "2",
            ],
            env={**os.environ},
            stdout=subprocess.PIPE,
            text=True,
        )
        first = proc.stdout.readline()
        assert json.loads(first)["kind"] == "incident.opened"
        time.sleep(0.5)
        s.append(inc.id, "note", "from ben", actor="ben", at=T0)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    second = json.loads(out.splitlines()[0])
    assert (second["message"], second["position"], second["chain"]) == ("from ben", 2, inc.id)
