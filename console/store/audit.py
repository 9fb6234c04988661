"""The hash chains over timeline events: one chain per incident (and one, ``audit``, for the
standalone records of actions taken with no incident open).

Each event's hash is SHA-256 over the previous event's hash *in the same chain* and the
event's canonical JSON, so editing or deleting any committed event breaks every later link of
its chain. Incidents do not serialise each other: two consoles writing to two incidents never
wait on one lock or fork one chain. Nothing follows a chain's last record, so its deletion
breaks no link: the store also keeps each chain's head (position, seq and hash) in
``chain_heads``, moved by the database in the same transaction as each insert, and
``verify_rows`` compares every chain's end with it.

The heads live in the same database, so they catch deletion by accident or naive tampering;
someone who can rewrite the database can rewrite the heads too. For more, ship the digest of
the heads (``rollbook audit verify --json`` → ``head``) somewhere else and compare.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

GENESIS = "0" * 64
AUDIT_CHAIN = "audit"  # the chain of standalone action records (no incident open)


def chain_of(incident_id: str | None) -> str:
    return incident_id if incident_id else AUDIT_CHAIN


def canonical(payload: Any) -> str:
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )


def event_hash(
    prev_hash: str,
    chain: str,
    position: int,
    incident_id: str | None,
    ts: str,
    actor: str,
    kind: str,
    message: str,
    payload_json: str,
) -> str:
    body = canonical([chain, position, incident_id, ts, actor, kind, message, payload_json])
    return hashlib.sha256(f"{prev_hash}|{body}".encode()).hexdigest()


def heads_digest(heads: Mapping[str, tuple[int, int, str]]) -> str:
    """One hash naming every chain's head (``chain → (position, seq, hash)``): the value to
    keep off-box and compare later."""
    lines = "\n".join(f"{c}:{p}:{h}" for c, (p, _s, h) in sorted(heads.items()))
    return hashlib.sha256(lines.encode()).hexdigest() if heads else GENESIS


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
    head_seq: int = 0  # the newest record's seq (0 when empty)
    head_hash: str = GENESIS  # the digest of every chain's head
    heads: dict[str, tuple[int, int, str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
            "head": {"seq": self.head_seq, "hash": self.head_hash},
            "chains": {
                c: {"position": p, "seq": s, "hash": h} for c, (p, s, h) in self.heads.items()
            },
        }


#: ``verify_rows(..., anchors=MISSING)``: the store had heads and they are gone.
MISSING: dict[str, tuple[int, int, str]] = {"": (-1, -1, "")}

Row = tuple[int, str, int, str | None, str, str, str, str, str, str, str]


def verify_rows(
    rows: Iterable[Row], anchors: Mapping[str, tuple[int, int, str]] | None = None
) -> ChainReport:
    """Walk ``(seq, chain, position, incident_id, ts, actor, kind, message, payload,
    prev_hash, hash)`` rows ordered by chain then position, and report the first record that
    does not link or does not hash; then compare each chain's last record with its anchor
    (``chain → (position, seq, hash)``; None: nothing to compare with; ``MISSING``: the
    anchors themselves were removed)."""
    heads: dict[str, tuple[int, int, str]] = {}
    n = 0
    chain, prev, expected = None, GENESIS, 1
    for seq, ch, pos, incident_id, ts, actor, kind, message, payload, prev_hash, h in rows:
        n += 1
        if ch != chain:
            chain, prev, expected = ch, GENESIS, 1
        if pos != expected:
            return _broken(
                n,
                seq,
                f"record {expected} of {ch} is missing (next present is {pos}, seq {seq})",
                heads,
            )
        if prev_hash != prev:
            return _broken(
                n,
                seq,
                f"record {seq} ({ch} #{pos}) does not link to the record "
                "before it (a record was removed or replaced)",
                heads,
            )
        if event_hash(prev_hash, ch, pos, incident_id, ts, actor, kind, message, payload) != h:
            return _broken(
                n, seq, f"record {seq} ({ch} #{pos}) was edited after it was written", heads
            )
        prev, expected = h, pos + 1
        heads[ch] = (pos, seq, h)
    last_seq = max((s for _p, s, _h in heads.values()), default=0)
    report = ChainReport(True, n, head_seq=last_seq, head_hash=heads_digest(heads), heads=heads)
    if anchors is None:
        return report
    if anchors is MISSING:
        return _broken(n, None, "the audit heads are missing (they were deleted)", heads)
    for ch, (apos, aseq, ahash) in sorted(anchors.items()):
        have = heads.get(ch)
        pos = have[0] if have else 0
        if apos > pos:
            first = pos + 1
            what = (
                f"record {aseq} (the last of {ch}) is missing"
                if apos == first
                else f"records {first}–{apos} of {ch} (the last) are missing"
            )
            return _broken(n, aseq if apos == first else None, what, heads)
        if apos < pos:
            return _broken(
                n,
                have[1] if have else None,
                f"records {apos + 1}–{pos} of {ch} were not written by the store "
                f"(its head names record {apos})",
                heads,
            )
        if have and have[2] != ahash:
            return _broken(
                n,
                have[1],
                f"record {have[1]} (the last of {ch}) was replaced: its hash differs from the head",
                heads,
            )
    for ch in heads:
        if ch not in anchors:
            return _broken(
                n,
                heads[ch][1],
                f"chain {ch} has no head: its records were not written by the store",
                heads,
            )
    return report


def _broken(
    n: int, seq: int | None, problem: str, heads: dict[str, tuple[int, int, str]]
) -> ChainReport:
    last = max((s for _p, s, _h in heads.values()), default=0)
    return ChainReport(False, n, seq, problem, last, heads_digest(heads), heads)


# ---- the single global chain of schema versions 1 and 2 (read once, to migrate) -----------
def legacy_hash(
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


def verify_legacy(rows: Iterable[tuple]) -> tuple[bool, str | None, int, str]:
    """``(ok, problem, head seq, head hash)`` of a version-2 store's single global chain
    (rows ``(seq, incident_id, ts, actor, kind, message, payload, prev_hash, hash)``)."""
    prev, last, expected = GENESIS, 0, None
    for seq, incident_id, ts, actor, kind, message, payload, prev_hash, h in rows:
        if expected is not None and seq != expected:
            return False, f"record {expected} is missing", last, prev
        if (
            prev_hash != prev
            or legacy_hash(prev_hash, seq, incident_id, ts, actor, kind, message, payload) != h
        ):
            return False, f"record {seq} does not verify", last, prev
        prev, last, expected = h, seq, seq + 1
    return True, None, last, prev
