"""A process killed between event writes loses no committed event and leaves a store that
opens cleanly."""

import os
import signal
import subprocess
import sys
import textwrap
import time

from console.store import IncidentStore

WRITER = textwrap.dedent("""
    import sys
    from datetime import datetime, timedelta, UTC
    from console.store import IncidentStore
    store = IncidentStore(sys.argv[1])
    t = datetime(2026, 11, 22, 6, 47, tzinfo=UTC)
    inc = store.create_incident(title="crash", model="churn", severity="SEV2", env="demo",
                                actor="w", at=t)
    print("incident", inc.id, flush=True)
    i = 0
    while True:
        ev = store.append(inc.id, "note", f"n{i}", actor="w", at=t + timedelta(seconds=i),
                          payload={"i": i, "pad": "x" * 200})
        print("committed", ev.seq, flush=True)   # printed only after the commit returned
        i += 1
""")


def test_sigkill_between_writes_loses_no_committed_event(tmp_path):
    db = tmp_path / "incidents.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    committed: list[int] = []
    incident_id = None
    deadline = time.monotonic() + 60
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("incident"):
            incident_id = line.split()[1]
        elif line.startswith("committed"):
            committed.append(int(line.split()[1]))
            if len(committed) >= 40:
                break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert incident_id and len(committed) >= 40

    with IncidentStore(db) as store:
        assert store._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        seqs = {e.seq for e in store.events(incident_id)}
        assert set(committed) <= seqs  # every acknowledged write survived
        assert store.verify_chain().ok
        # and the store is writable again right away
        store.append(
            incident_id,
            "note",
            "after crash",
            actor="t",
            at=max(e.ts for e in store.events(incident_id)),
        )
