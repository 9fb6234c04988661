"""The names the rest of the code imports: ``IncidentStore`` (the embedded SQLite store),
``Change``, ``open_store``. The store itself is ``console.store.base`` (its SQL) with a
backend: ``console.store.sqlite`` (embedded) or ``console.store.postgres`` (a team's)."""

from __future__ import annotations

from console.store.base import Change, Store
from console.store.open import open_store
from console.store.sqlite import SqliteStore

IncidentStore = SqliteStore

__all__ = ["Change", "IncidentStore", "SqliteStore", "Store", "open_store"]
