"""A check that has no data to judge is INCONCLUSIVE — never "passed" on nothing."""

from console.demo import start_demo
from console.runbooks.engine import Engine


def test_a_metric_check_on_no_data_is_inconclusive(ws, monkeypatch):
    state = start_demo(ws, "pricing-zero")
    monkeypatch.setattr(ws.backends.metrics, "query", lambda *a, **k: None)
    eng = Engine(ws, state.incident.id)
    errors = next(s for s in eng.steps() if s.name == "error_rate")
    view = eng.run_step(errors.id)
    assert view.state == "inconclusive" and "no data: INCONCLUSIVE" in view.summary
    assert not view.settled  # the phase is not ticked on it
    [ev] = [
        e
        for e in ws.store.events(state.incident.id, kind_prefix="step.finished")
        if e.payload.get("step") == errors.id
    ]
    assert ev.payload["passed"] is None
