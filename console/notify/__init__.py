"""Telling people: Slack, PagerDuty (any ``notify`` plugin) kept in step with the incident.

One place turns the record into notifications: ``console.notify.pump`` reads the timeline's
new events and queues what they mean, per channel, as ``notify.queued`` events on the
incident's own timeline; ``console.notify.delivery`` sends them (``notify.sending`` →
``notify.sent`` / ``notify.deferred`` / ``notify.failed``), retrying with backoff. Nothing
lives only in memory, so a crash loses no message and a restart sends none twice; and since
the pump reads the store, it does not matter which process wrote the event.

``console.notify.service`` runs both in a background thread of every process that opens a
workspace of an environment with channels (``attach``), so the action that caused a message
never waits for it; closing the workspace waits at most ``flush_seconds`` for what is left.

Nothing is imported here: ``console.config`` reads ``console.notify.settings`` and must stay
light.
"""
