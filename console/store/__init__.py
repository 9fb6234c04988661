"""The incident store: the single source of truth for incidents and their timelines."""

from console.store.base import Change, Store
from console.store.models import MILESTONES, PHASES, SEVERITIES, Incident, TimelineEvent
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
    "PHASES",
    "SEVERITIES",
    "MILESTONES",
]
