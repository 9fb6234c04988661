"""Shared fixtures: every test gets its own ROLLBOOK_HOME so nothing touches the user's
config or data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from console.clock import ManualClock

# The real servers' fixtures (one session stack shared by tests/integration and tests/contract).
pytest_plugins = ("tests.integration.fixtures",)

T0 = datetime(2026, 11, 22, 6, 52, tzinfo=UTC)


@pytest.fixture(autouse=True)
def rollbook_home(tmp_path, monkeypatch):
    home = tmp_path / "rollbook-home"
    home.mkdir()
    monkeypatch.setenv("ROLLBOOK_HOME", str(home))
    monkeypatch.delenv("ROLLBOOK_ENV", raising=False)
    monkeypatch.setenv("ROLLBOOK_ACTOR", "tester")
    return home


@pytest.fixture
def clock():
    return ManualClock(T0)
