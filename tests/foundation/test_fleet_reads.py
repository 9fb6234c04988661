"""The fleet's per-model reads run for the whole fleet inside one deadline: a hung backend
costs one deadline (not one per model), one model's failure stays that model's, and the
models read before the deadline keep their answers."""

from __future__ import annotations

import time

import pytest

import console.fleet as fleet
from console.demo import start_demo
from console.errors import BackendError
from console.fleet import fleet_status
from console.workspace import open_workspace


def test_one_models_failure_is_that_models_alone():
    def read(name: str) -> str:
        if name == "b":
            raise BackendError("registry said no")
        if name == "c":
            raise KeyError("c")
        return name.upper()

    answers, errors = fleet._read_each(read, ["a", "b", "c", "d"], deadline=5.0, what="reg")
    assert answers == {"a": "A", "d": "D"}
    assert errors == {"b": "registry said no", "c": "reg failed: KeyError: 'c'"}


def test_a_hung_model_costs_one_deadline_and_the_models_read_before_it_keep_their_answers():
    def read(name: str) -> str:
        if name == "c":
            time.sleep(3)
        return name

    t0 = time.monotonic()
    answers, errors = fleet._read_each(read, list("abcde"), deadline=0.3, what="reg")
    assert time.monotonic() - t0 < 1.5
    assert answers == {"a": "a", "b": "b"}
    assert set(errors) == {"c", "d", "e"}
    assert all("timed out" in e and "(read 2 of 5)" in e for e in errors.values())


@pytest.fixture
def demo_ws(clock):
    with open_workspace("demo", clock=clock) as ws:
        start_demo(ws, "athena-null-feature")
        yield ws


def test_a_hung_registry_holds_the_fleet_one_deadline_not_one_per_model(demo_ws, monkeypatch):
    monkeypatch.setattr(fleet, "STATUS_DEADLINE_S", 0.4)
    demo_ws.backends.world.break_backend(
        "registry", "production_version", mode="timeout", times=-1, delay_s=5
    )
    t0 = time.monotonic()
    rows = fleet_status(demo_ws)
    took = time.monotonic() - t0
    assert len(rows) >= 5
    # one model per deadline would be len(rows) × 0.4 s
    assert took < 0.4 * len(rows) - 0.4
    assert all("registry" in r.backend_errors for r in rows)
    assert all(r.production_version is None for r in rows)
    # traffic is another backend: still read for every model
    assert all("traffic" not in r.backend_errors and r.routes for r in rows)


def test_a_single_failing_read_marks_only_its_model(demo_ws):
    demo_ws.backends.world.break_backend("traffic", "routes", mode="error", times=1)
    rows = fleet_status(demo_ws)
    broken = [r for r in rows if "traffic" in r.backend_errors]
    assert len(broken) == 1 and broken[0].routes == {}
    assert all(r.routes for r in rows if r is not broken[0])
