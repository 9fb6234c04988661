"""The incident store: the single source of truth for incidents and their timelines."""

from console.store.base import Change, Store
from console.store.models import (
    MILESTONES,
    PHASES,
    SEVERITIES,
    Incident,
    NewEvent,
    TimelineEvent,
)
from console.store.open import open_store
from console.store.sqlite import SqliteStore

IncidentStore = SqliteStore

__all__ = [
    "Change",
    "IncidentStore",
    "SqliteStore",
    "Store",
    "open_store",
    "Incident",
    "TimelineEvent",
    "NewEvent",
    "PHASES",
    "SEVERITIES",
    "MILESTONES",
]
