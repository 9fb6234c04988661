"""The hash chain over timeline events.

Each event's hash is SHA-256 over the previous event's hash and the event's canonical JSON,
so editing or deleting any committed event breaks every later link.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def canonical(payload: Any) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


def event_hash(prev_hash: str, seq: int, incident_id: str | None, ts: str, actor: str,
               kind: str, message: str, payload_json: str) -> str:
    body = canonical([seq, incident_id, ts, actor, kind, message, payload_json])
    return hashlib.sha256(f"{prev_hash}|{body}".encode()).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "first_bad_seq": self.first_bad_seq,
                "problem": self.problem}


def verify_rows(rows: Any) -> ChainReport:
    """Walk ``(seq, incident_id, ts, actor, kind, message, payload, prev_hash, hash)`` rows
    in seq order and report the first record that does not link or does not hash."""
    prev = GENESIS
    expected_seq = None
    n = 0
    for seq, incident_id, ts, actor, kind, message, payload, prev_hash, h in rows:
        n += 1
        if expected_seq is not None and seq != expected_seq:
            return ChainReport(False, n, expected_seq,
                               f"record {expected_seq} is missing (next present is {seq})")
        if prev_hash != prev:
            return ChainReport(False, n, seq, f"record {seq} does not link to the record "
                                              "before it (a record was removed or replaced)")
        if event_hash(prev_hash, seq, incident_id, ts, actor, kind, message, payload) != h:
            return ChainReport(False, n, seq, f"record {seq} was edited after it was written")
        prev = h
        expected_seq = seq + 1
    return ChainReport(True, n)
