"""Reading a long timeline page by page, so 100,000 events are never in memory at once.

Works over any store's ``events(incident_id, after_seq=, limit=, kind_prefix=)`` (keyset
pages on ``seq``: each page starts after the last ``seq`` of the one before, so a page costs
the same at event 100 and at event 100,000, and events appended while reading do not shift
the pages).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

from console.store.models import TimelineEvent

#: events read per query: large enough that the query's cost is amortised, small enough that
#: a page of events with their payloads stays a few MB
PAGE = 2000


class EventSource(Protocol):
    def events(
        self,
        incident_id: str | None = None,
        *,
        after_seq: int = 0,
        limit: int | None = None,
        all_incidents: bool = False,
        kind_prefix: str | None = None,
    ) -> list[TimelineEvent]: ...


def kind_prefixes(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """``"action.,incident."`` (or a list of such) → ``("action.", "incident.")``: blanks
    dropped, duplicates and prefixes covered by a shorter one removed (``action.`` covers
    ``action.finished``); ``()`` means every kind."""
    parts = [text] if isinstance(text, str) else list(text or ())
    items = {p.strip() for part in parts for p in part.split(",") if p.strip()}
    return tuple(sorted(p for p in items if not any(p != q and p.startswith(q) for q in items)))


def _one_kind(
    store: EventSource,
    incident_id: str,
    after_seq: int,
    until_seq: int | None,
    prefix: str | None,
    page: int,
) -> Iterator[TimelineEvent]:
    after = after_seq
    while True:
        rows = store.events(incident_id, after_seq=after, limit=page, kind_prefix=prefix)
        if until_seq is not None and rows and rows[-1].seq > until_seq:
            yield from (e for e in rows if e.seq <= until_seq)
            return
        yield from rows  # a whole page at C speed: this runs once per event of the timeline
        if len(rows) < page:
            return
        after = rows[-1].seq


def iter_events(
    store: EventSource,
    incident_id: str,
    *,
    after_seq: int = 0,
    until_seq: int | None = None,
    kinds: Sequence[str] = (),
    limit: int | None = None,
    page: int = PAGE,
) -> Iterator[TimelineEvent]:
    """One incident's events in ``seq`` order, read ``page`` at a time.

    ``after_seq``: only events after this seq (0: from the start). ``until_seq``: none after
    this one (pass ``store.last_seq()`` taken when the incident was read, so the listing is
    the timeline as it was then; None: until the end, whatever is appended meanwhile).
    ``kinds``: only kinds starting with one of these prefixes (see ``kind_prefixes``; each
    prefix is its own keyset query, merged on ``seq``); empty: every kind. ``limit``: at most
    this many (None: no limit; 0: none). Memory: one page per prefix."""
    if page < 1:
        raise ValueError("page must be at least 1")
    if limit is not None and limit <= 0:
        return
    prefixes = kind_prefixes(kinds)
    per_query = page if limit is None else min(page, limit)
    streams = [
        _one_kind(store, incident_id, after_seq, until_seq, p, per_query)
        for p in (prefixes or (None,))
    ]
    if len(streams) == 1 and limit is None:
        yield from streams[0]  # the whole timeline: nothing to merge, count or stop
        return
    merged: Iterable[TimelineEvent] = (
        streams[0] if len(streams) == 1 else heapq.merge(*streams, key=lambda e: e.seq)
    )
    # the streams never share an event: a kind filter is an exact prefix on both backends
    # and kind_prefixes leaves no prefix that covers another
    for n, e in enumerate(merged, start=1):
        yield e
        if limit is not None and n >= limit:
            return


class PagedTimeline:
    """An incident's timeline as an iterable that reads the store page by page each time it
    is iterated (a report that walks the record twice reads it twice rather than keeping it).
    The store must stay open while it is iterated."""

    def __init__(
        self, store: EventSource, incident_id: str, *, until_seq: int | None = None
    ) -> None:
        self.store = store
        self.incident_id = incident_id
        self.until_seq = until_seq

    def __iter__(self) -> Iterator[TimelineEvent]:
        return iter_events(self.store, self.incident_id, until_seq=self.until_seq)
