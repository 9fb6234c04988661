"""Sending one due notification: claim the attempt, send, record what happened.

Every attempt is recorded *before* its request (``notify.sending``), so a crash in the
middle leaves an attempt without an outcome rather than a message nobody knows about. Its
outcome is ``notify.sent`` (with the service's id for it), ``notify.deferred`` (429, 5xx, a
timeout: another attempt at ``retry_at``, after the service's ``Retry-After`` or the
channel's backoff) or ``notify.failed`` (refused — a 400 — or out of attempts).

An attempt whose outcome is unknown (a timeout, or a process that died mid-request) is
taken over carefully: a notifier that can look (a Slack bot token) looks for the message
first and records it as sent when it is there; one whose service deduplicates (PagerDuty's
``dedup_key``) sends again harmlessly; an incoming webhook can do neither, and sends again
(the README says what that can mean).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from console.enums import EventKind
from console.notify.channels import Channel
from console.notify.model import DeliveryError
from console.notify.queue import Ledger, Notification, Store, claim, record, wall_iso

#: An attempt is not started with less time than this left before a deadline (seconds).
MIN_ATTEMPT_S = 0.2


def deliver(
    store: Store,
    ledger: Ledger,
    channel: Channel,
    n: Notification,
    now: Callable[[], datetime],
    *,
    deadline: float | None = None,
) -> str | None:
    """Make the next attempt for ``n`` (a ``Ledger.snapshot`` the caller found due). ``deadline`` (a
    ``time.monotonic()`` value) bounds the attempt's timeout: a process that is closing never
    starts a request it cannot wait for. Returns the state it left ``n`` in, or None when it
    made no attempt (another process had it, no time left, the channel cannot send)."""
    notifier = channel.notifier
    if notifier is None:
        return None
    policy = channel.settings.retry
    timeout = policy.timeout_s
    if deadline is not None:
        timeout = min(timeout, deadline - time.monotonic())
        if timeout < MIN_ATTEMPT_S:
            return None
    recovering = n.unknown or n.state == "sending"
    thread = ledger.thread(n.incident_id, n.channel)
    if not claim(store, n, now, timeout_s=timeout, thread=thread):
        ledger.refresh()  # someone else moved it: learn where it is
        return None
    attempt = n.attempts + 1
    _see_last(store, ledger, n)
    if recovering and notifier.can_look():
        try:
            found = notifier.find(n.message, thread=thread, timeout=timeout)
        except DeliveryError:
            found = None  # cannot tell: send (and say so in the outcome)
        if found is not None:
            ev = record(
                store,
                n,
                EventKind.NOTIFY_SENT,
                f"already delivered ({found.remote_id}); not sent again",
                now,
                attempt=attempt,
                remote_id=found.remote_id,
                thread=found.thread or thread,
                found=True,
            )
            ledger.see(ev)
            return "sent"
    try:
        delivered = notifier.send(n.message, thread=thread, timeout=timeout)
    except DeliveryError as err:
        return _not_delivered(store, ledger, channel, n, err, attempt, now)
    except Exception as exc:  # noqa: BLE001 - a plugin's bug: record it, never raise it
        bug = DeliveryError(f"{type(exc).__name__}: {exc}", retryable=False)
        return _not_delivered(store, ledger, channel, n, bug, attempt, now)
    ev = record(
        store,
        n,
        EventKind.NOTIFY_SENT,
        f"sent ({delivered.remote_id})" + (" after an unknown outcome" if recovering else ""),
        now,
        attempt=attempt,
        remote_id=delivered.remote_id,
        thread=delivered.thread,
        found=False,
    )
    ledger.see(ev)
    return "sent"


def _see_last(store: Store, ledger: Ledger, n: Notification) -> None:
    """Fold this process's own ``notify.sending`` into the ledger at once."""
    last, _ = store.tail(n.incident_id, 1)
    if last and last[0].payload.get("notification_id") == n.id:
        ledger.see(last[0])


def _not_delivered(
    store: Store,
    ledger: Ledger,
    channel: Channel,
    n: Notification,
    err: DeliveryError,
    attempt: int,
    now: Callable[[], datetime],
) -> str:
    policy = channel.settings.retry
    status = f"HTTP {err.status}: " if err.status else ""
    if err.retryable and attempt < policy.attempts:
        wait = policy.wait_before(attempt + 1, err.retry_after)
        retry_at = time.time() + wait
        ev = record(
            store,
            n,
            EventKind.NOTIFY_DEFERRED,
            f"attempt {attempt} failed ({status}{err.message}); retry in {wait:.3g} s",
            now,
            attempt=attempt,
            error=err.message,
            status=err.status,
            retry_at=wall_iso(retry_at),
            retry_after=err.retry_after,
            unknown=err.unknown,
        )
        ledger.see(ev)
        return "deferred"
    why = "refused" if not err.retryable else f"gave up after {attempt} attempts"
    ev = record(
        store,
        n,
        EventKind.NOTIFY_FAILED,
        f"FAILED: {why} ({status}{err.message})",
        now,
        attempts=attempt,
        error=err.message,
        status=err.status,
        permanent=not err.retryable,
        unknown=err.unknown,
    )
    ledger.see(ev)
    return "failed"
