"""The incident store: the single source of truth for incidents and their timelines."""

from console.store.incidents import IncidentStore, open_store
from console.store.models import MILESTONES, PHASES, SEVERITIES, Incident, TimelineEvent

__all__ = [
    "IncidentStore",
    "open_store",
    "Incident",
    "TimelineEvent",
    "PHASES",
    "SEVERITIES",
    "MILESTONES",
]
