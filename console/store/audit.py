"""The hash chain over timeline events.

Each event's hash is SHA-256 over the previous event's hash and the event's canonical JSON,
so editing or deleting any committed event breaks every later link. Nothing follows the last
record, so its deletion breaks no link: the store also keeps the head (last seq and hash) in
a one-row anchor, and ``verify_rows`` compares the chain's end with it.

The anchor lives in the same file, so it catches deletion by accident or by naive tampering;
someone who can rewrite the file can rewrite the anchor too. For more, ship the head
(``rollbook audit verify --json`` → ``head``) somewhere else and compare.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def canonical(payload: Any) -> str:
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )


def event_hash(
    prev_hash: str,
    seq: int,
    incident_id: str | None,
    ts: str,
    actor: str,
    kind: str,
    message: str,
    payload_json: str,
) -> str:
    body = canonical([seq, incident_id, ts, actor, kind, message, payload_json])
    return hashlib.sha256(f"{prev_hash}|{body}".encode()).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
    head_seq: int = 0  # the chain's last record as read (0 and GENESIS when empty)
    head_hash: str = GENESIS

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
            "head": {"seq": self.head_seq, "hash": self.head_hash},
        }


#: ``verify_rows(..., anchor=MISSING)``: the store had an anchor and it is gone.
MISSING = (-1, "")


def verify_rows(rows: Any, anchor: tuple[int, str] | None = None) -> ChainReport:
    """Walk ``(seq, incident_id, ts, actor, kind, message, payload, prev_hash, hash)`` rows
    in seq order and report the first record that does not link or does not hash; then
    compare the last record with ``anchor`` (the head's ``(seq, hash)``; None: no anchor to
    compare with, ``MISSING``: the anchor itself was removed)."""
    report = _walk(rows)
    if not report.ok or anchor is None:
        return report
    last, last_hash = report.head_seq, report.head_hash
    seq, h = anchor

    def broken(first: int | None, problem: str) -> ChainReport:
        return ChainReport(False, report.checked, first, problem, last, last_hash)

    if anchor == MISSING:
        return broken(None, "the audit head anchor is missing (it was deleted)")
    if seq > last:
        if seq == last + 1:
            return broken(seq, f"record {seq} (the last) is missing")
        return broken(last + 1, f"records {last + 1}–{seq} (the last) are missing")
    if seq < last:
        return broken(
            seq + 1,
            f"records {seq + 1}–{last} were not written by the store "
            f"(the head anchor names record {seq})",
        )
    if h != last_hash:
        return broken(
            seq, f"record {seq} (the last) was replaced: its hash differs from the head anchor"
        )
    return report


def _walk(rows: Any) -> ChainReport:
    prev = GENESIS
    expected_seq = None
    last = 0
    n = 0
    for seq, incident_id, ts, actor, kind, message, payload, prev_hash, h in rows:
        n += 1
        if expected_seq is not None and seq != expected_seq:
            return ChainReport(
                False, n, expected_seq, f"record {expected_seq} is missing (next present is {seq})"
            )
        if prev_hash != prev:
            return ChainReport(
                False,
                n,
                seq,
                f"record {seq} does not link to the record "
                "before it (a record was removed or replaced)",
            )
        if event_hash(prev_hash, seq, incident_id, ts, actor, kind, message, payload) != h:
            return ChainReport(False, n, seq, f"record {seq} was edited after it was written")
        prev = h
        last = seq
        expected_seq = seq + 1
    return ChainReport(True, n, head_seq=last, head_hash=prev)
