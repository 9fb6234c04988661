"""`rollbook store migrate`: copy a SQLite store into PostgreSQL, chains intact.

The source is verified first (a broken chain is not copied); every incident row and every
event is copied as it is — time, actor, payload, chain, position and hash — in the source's
order, so each chain's head on PostgreSQL equals its head on SQLite, and the copy is verified
again before the command says so. The target must be empty: merging two teams' records is not
a copy.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.errors import ActionRefused, RollbookError
from console.store.base import EVENT_COLS, INCIDENT_COLS, Store


@dataclass(frozen=True)
class MigrationReport:
    incidents: int
    events: int
    chains: int
    head: str  # the digest of every chain's head, equal on both sides

    def to_dict(self) -> dict[str, object]:
        return {
            "incidents": self.incidents,
            "events": self.events,
            "chains": self.chains,
            "head": self.head,
        }


def migrate(source: Store, target: Store) -> MigrationReport:
    before = source.verify_chain()
    if not before.ok:
        raise RollbookError(
            f"the source store does not verify ({before.problem}): nothing was copied",
            hint="run rollbook audit verify on it; keep the file for the investigation",
        )
    if target.last_seq() or target.list():
        raise ActionRefused(
            "the PostgreSQL store is not empty: nothing was copied",
            hint="migrate into a new database (merging two records is not a copy)",
        )
    incidents = source._fetchall(
        f"SELECT {', '.join(INCIDENT_COLS)} FROM incidents ORDER BY number"
    )
    events = source._fetchall(f"SELECT {EVENT_COLS} FROM events ORDER BY seq")
    cols = ", ".join(INCIDENT_COLS)
    marks = ",".join("?" * len(INCIDENT_COLS))
    with target._tx():
        for row in incidents:
            target._execute(f"INSERT INTO incidents ({cols}) VALUES ({marks})", row)
        for row in events:
            target._insert_event(tuple(row[1:]))  # the target numbers seq; the chain keeps
    after = target.verify_chain()
    if (
        not after.ok
        or after.heads.keys() != before.heads.keys()
        or any(after.heads[c][0::2] != before.heads[c][0::2] for c in before.heads)
    ):
        raise RollbookError(
            f"the copy does not verify like its source ({after.problem or 'heads differ'})",
            hint="the target database holds a partial copy: drop it and migrate again",
        )
    return MigrationReport(len(incidents), len(events), len(before.heads), after.head_hash)
