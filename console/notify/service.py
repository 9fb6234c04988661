"""Keeping the channels in step in the background of any process.

``attach(ws)`` (called by ``open_workspace`` for an environment with channels) starts one
thread that pumps new timeline events into the queue every ``POLL_S`` seconds, and one
sender thread per channel (a slow Slack never holds back a PagerDuty acknowledgement). The
command or console that wrote an event never waits for a message: it goes on, and the
threads pick the event up from the store.

``stop`` (``Workspace.close``) queues what the process wrote last and lets the senders work
until ``flush_seconds`` have passed — no attempt starts that could not finish by then — and
returns; whatever is left stays queued for the next process (any ``rollbook`` command, or
the console). ``flush`` does the same without stopping (``rollbook update`` uses it to say
where its update went).
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from console.notify.channels import Channel, open_channels
from console.notify.delivery import MIN_ATTEMPT_S, deliver
from console.notify.pump import Pump
from console.notify.queue import Ledger, Notification, Store
from console.notify.settings import NotifySettings

if TYPE_CHECKING:
    from console.workspace import Workspace

POLL_S = 0.5  # how often the store is read for new events (a cheap indexed query)
IDLE_WAIT_S = 5.0  # a sender with nothing due re-checks at least this often


@dataclass
class NotifyService:
    store: Store
    env: str
    channels: Sequence[Channel]
    settings: NotifySettings
    now: Callable[[], datetime]
    ledger: Ledger = field(init=False)
    pump: Pump = field(init=False)
    problems: list[str] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _threads: list[threading.Thread] = field(default_factory=list)
    _stopping: bool = False
    _deadline: float | None = None  # monotonic: while set, nothing starts past it
    _busy: set[str] = field(default_factory=set)  # channels with an attempt in flight
    _pumped: int = 0  # pump rounds done (flush waits for one begun after it was asked)
    _begun: int = 0  # pump rounds begun
    _waited: float = 0.0  # seconds spent in flush so far
    errors: list[str] = field(default_factory=list)  # the threads' own failures, if any

    def __post_init__(self) -> None:
        self.ledger = Ledger(self.store, self.env)
        self.pump = Pump(self.store, self.env, self.channels, self.settings, self.ledger, self.now)
        self.problems = [
            f"notify channel {c.describe()}: its messages stay queued"
            for c in self.channels
            if c.problem
        ]

    # ---- lifecycle ----------------------------------------------------------------------
    def start(self) -> NotifyService:
        self._spawn(self._pump_loop, "rollbook-notify-pump")
        for ch in self.channels:
            if ch.notifier is not None:
                self._spawn(functools.partial(self._send_loop, ch), f"rollbook-notify-{ch.name}")
        return self

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        # Daemon threads: a process that must exit is never held by a stuck request; the
        # bounded wait is ``stop``'s.
        t = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(t)
        t.start()

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def flush(self, timeout: float | None = None) -> None:
        """Queue what was written so far and send what is due, for at most ``timeout``
        seconds (default ``flush_seconds``); returns early when nothing due is left (a retry
        that falls due within the budget is waited for)."""
        if not self._threads:
            return  # never started: nothing runs that could send
        budget = self.settings.flush_s if timeout is None else timeout
        start = time.monotonic()
        end = start + budget
        with self._cond:
            self._deadline = end
            target = self._begun + 1  # a round that begins after this call, completed
            self._cond.notify_all()
            while time.monotonic() < end:
                wall_end = time.time() + (end - time.monotonic())
                if self._pumped >= target and not self._busy and not self._due_by(wall_end):
                    break
                self._cond.wait(min(0.05, max(0.0, end - time.monotonic())))
            self._deadline = None
        self._waited += time.monotonic() - start

    def stop(self, timeout: float | None = None) -> None:
        """``flush``, then stop the threads, then queue (without sending) whatever was
        written since — so the record of what to tell is complete when the process ends.

        The default budget is what is left of ``flush_seconds`` after this service's earlier
        flushes (``rollbook update`` waits once, not twice). A request still in flight when
        the budget ends is left to its daemon thread; the next process finds its attempt
        without an outcome and takes it over once this process is gone."""
        if self._stopping:
            return
        if timeout is None:
            timeout = max(0.0, self.settings.flush_s - self._waited)
        end = time.monotonic() + timeout
        if timeout > 0:
            self.flush(timeout)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for t in self._threads:
            t.join(timeout=max(0.0, end - time.monotonic()) + 0.05)
        pump = self._threads[0] if self._threads else None
        if pump is None or not pump.is_alive():
            try:  # the pump thread is done: this thread may run the pump once more
                self.ledger.refresh()
                self.pump.run()
            except Exception as exc:  # noqa: BLE001 - the store may be gone; say so
                self._note_error(f"final pump: {type(exc).__name__}: {exc}")
        for ch in self.channels:
            with contextlib.suppress(Exception):
                ch.close()

    # ---- the threads --------------------------------------------------------------------
    def _due_by(self, wall_end: float) -> bool:
        """Whether a notification a sender can send falls due before ``wall_end`` (epoch
        seconds): a retry due within a flush's budget is waited for."""
        now = time.time()
        for ch in self.channels:
            if ch.notifier is None:
                continue
            for n in self.ledger.heads(ch.name):
                when = n.when_due(now)
                if when is not None and when <= wall_end:
                    return True
        return False

    def _pump_loop(self) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    return
                self._begun += 1
            try:
                self.ledger.refresh()
                if self.pump.run():
                    self.ledger.refresh()
            except Exception as exc:  # noqa: BLE001 - keep pumping; say what went wrong
                self._note_error(f"pump: {type(exc).__name__}: {exc}")
            with self._cond:
                self._pumped += 1
                self._cond.notify_all()
                if self._stopping:
                    return
                self._cond.wait(POLL_S)

    def _send_loop(self, ch: Channel) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    return
                deadline = self._deadline
            next_at = self._send_due(ch, deadline)
            with self._cond:
                if self._stopping:
                    return
                wait = IDLE_WAIT_S if next_at is None else max(0.0, next_at - time.time())
                self._cond.wait(min(wait, IDLE_WAIT_S, POLL_S * 4))

    def _send_due(self, ch: Channel, deadline: float | None) -> float | None:
        """Send every due head of the channel once; the epoch time the next one falls due."""
        next_at: float | None = None
        for head in self.ledger.heads(ch.name):
            n = self.ledger.snapshot(head.id)
            now = time.time()
            if n is None or n.done:
                continue
            if not n.due(now):
                when = n.when_due(now)
                if when is not None:
                    next_at = when if next_at is None else min(next_at, when)
                continue
            if deadline is not None and deadline - time.monotonic() < MIN_ATTEMPT_S:
                return next_at
            with self._cond:
                self._busy.add(ch.name)
            try:
                deliver(self.store, self.ledger, ch, n, self.now, deadline=deadline)
            except Exception as exc:  # noqa: BLE001 - a store error: keep the thread alive
                self._note_error(f"{ch.name}: {type(exc).__name__}: {exc}")
            finally:
                with self._cond:
                    self._busy.discard(ch.name)
                    self._cond.notify_all()
            n = self.ledger.snapshot(head.id) or n
            if not n.done:
                when = n.when_due(time.time())
                if when is not None:
                    next_at = when if next_at is None else min(next_at, when)
            else:
                next_at = time.time()  # the incident's next message may be due now
        return next_at

    def _note_error(self, text: str) -> None:
        if len(self.errors) < 100:
            self.errors.append(text)

    # ---- reading ------------------------------------------------------------------------
    def outcome(self, notification_ids: Sequence[str]) -> list[Notification]:
        """The notifications with these ids as the ledger knows them now."""
        self.ledger.refresh()
        return [n for i in notification_ids if (n := self.ledger.items.get(i)) is not None]


def attach(ws: Workspace) -> NotifyService | None:
    """Start keeping the workspace environment's channels in step (None: it has none)."""
    settings = ws.env.notify
    if not settings:
        return None
    channels = open_channels(ws.config, ws.env)
    return NotifyService(ws.store, ws.env.name, channels, settings, ws.now).start()
