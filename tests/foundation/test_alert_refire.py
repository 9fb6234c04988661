"""A flapping alert: each new start time is noted once, and the incident keeps only the most
recent start times, so the "fired again" events do not grow with the alert's history."""

from datetime import timedelta

from console.backends.types import Alert
from console.incidents import ALERT_STARTS_KEPT, open_from_alert
from console.workspace import open_workspace


def _alert(at):
    return Alert("ModelErrorRateHigh", "churn", "fp-flap", at, severity="critical")


def test_a_flapping_alert_is_noted_once_per_start_and_its_events_stay_small(clock):
    with open_workspace("demo", clock=clock) as ws:
        t0 = ws.now() - timedelta(hours=10)
        inc, created = open_from_alert(ws, _alert(t0))
        assert created
        n = ALERT_STARTS_KEPT * 3
        for i in range(1, n):
            again, created = open_from_alert(ws, _alert(t0 + timedelta(minutes=5 * i)))
            assert not created and again.id == inc.id
        # a start seen before (the alert resent as it is) writes nothing
        before = len(ws.store.events(inc.id))
        open_from_alert(ws, _alert(t0 + timedelta(minutes=5 * (n - 1))))
        # an old start, dropped from the kept list, is not taken for a new firing
        open_from_alert(ws, _alert(t0))
        assert len(ws.store.events(inc.id)) == before
        fired = [e for e in ws.store.events(inc.id) if e.message.startswith("alert fired again")]
        assert len(fired) == n - 1
        last = ws.store.get(inc.id).data
        assert last["alert_fired"] == n
        assert len(last["alert_starts"]) == ALERT_STARTS_KEPT
        assert last["alert_starts"][-1] == (t0 + timedelta(minutes=5 * (n - 1))).isoformat()
        assert max(len(e.payload["data"]["alert_starts"]) for e in fired) == ALERT_STARTS_KEPT
