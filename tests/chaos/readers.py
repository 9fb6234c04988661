"""What runs in the chaos suite's other processes besides the CLI: an open console, reading
the incident screen's view in a loop (as the TUI refreshes it), with presence heartbeats and
the recovery watch's observations written to the store as it goes."""

from __future__ import annotations

import json
import time
from pathlib import Path


def console_open(incident_id: str, seconds: float, report: str, stop: str) -> None:
    """Read the incident view (marked as viewed: a heartbeat) and, every few rounds, the
    fleet, until the file ``stop`` exists (at most ``seconds``); write how many reads were
    made to ``report``. Any error ends the process with its traceback (exit 1)."""
    from console.views import fleet_view, incident_view
    from console.workspace import open_workspace

    reads = fleet_reads = 0
    end = time.monotonic() + seconds
    with open_workspace() as ws:
        while time.monotonic() < end and not Path(stop).exists():
            view = incident_view(ws, incident_id, here=True)
            assert view.incident.id == incident_id
            reads += 1
            if reads % 4 == 0:
                fleet_view(ws)
                fleet_reads += 1
            time.sleep(0.02)
    Path(report).write_text(json.dumps({"reads": reads, "fleet_reads": fleet_reads}))
