"""``EmbeddedWorld``: one simulated production environment in one SQLite file.

All roles of a connection share one world; it is also the ``world`` role itself. On top of
the engine (clock, catch-up, logs) it injects and clears faults and offers test helpers:
``break_backend``/``repair_backend`` and ``corrupt_artifact``.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime
from typing import Any

from console.backends.interfaces import ROLES, World
from console.errors import BackendError, InvalidInput, NotFound
from plugins.embedded.engine import SimulationEngine, floor_minute, from_ts, to_ts
from plugins.embedded.scenarios import SCENARIOS, Scenario

__all__ = ["EmbeddedWorld", "floor_minute", "from_ts", "to_ts"]

BREAK_MODES = ("error", "timeout", "unhealthy", "slow")


class EmbeddedWorld(SimulationEngine, World):
    """The simulated fleet behind every role of the ``embedded`` plugin."""

    capabilities = frozenset({"inject", "break_backend", "speed", "corrupt_artifact"})

    # ---- World role: faults ------------------------------------------------------------
    def scenarios(self) -> dict[str, str]:
        return {name: sc.description for name, sc in SCENARIOS.items()}

    def _scenario(self, name: str) -> Scenario:
        sc = SCENARIOS.get(name)
        if sc is None:
            raise NotFound(
                f"unknown scenario {name!r}", hint=f"scenarios: {', '.join(sorted(SCENARIOS))}"
            )
        return sc

    def _facts(self, name: str, onset: float) -> dict[str, Any]:
        sc = SCENARIOS[name]
        return {
            "scenario": name,
            "model": sc.model,
            "onset": from_ts(onset),
            "bad_version": sc.bad_version,
            "good_version": sc.good_version,
            "feature": sc.feature,
            "description": sc.description,
            "mitigation": sc.mitigation,
            "signals": [e.signal for e in sc.effects],
            "routes": dict(sc.set_routes) if sc.set_routes else None,
            **sc.facts,
        }

    def inject(self, scenario: str, *, onset: datetime | None = None) -> dict:
        """Start ``scenario``; default onset = now (floored to the minute) minus its lead
        time (athena: 6 min, so its alert starts one minute after onset, at 06:47 on the
        seeded day). Injecting an active scenario again returns its facts unchanged."""
        sc = self._scenario(scenario)
        self.catch_up()
        with self._lock:
            start = to_ts(onset) if onset is not None else floor_minute(self.now_ts()) - sc.lead_s
            with self.tx() as conn:  # check and insert in one transaction: no double inject
                active = conn.execute(
                    "SELECT onset FROM faults WHERE scenario = ? AND cleared IS NULL", (scenario,)
                ).fetchone()
                if active is None:
                    facts = self._facts(scenario, start)
                    conn.execute(
                        "INSERT INTO faults (scenario, model, onset, cleared, injected_at,"
                        " facts) VALUES (?,?,?,NULL,?,?)",
                        (scenario, sc.model, start, self.now_ts(), json.dumps(facts, default=str)),
                    )
                    if sc.set_routes:
                        conn.execute(
                            "INSERT INTO route_log (model, at, weights, actor) VALUES (?,?,?,?)",
                            (sc.model, start, json.dumps(sc.set_routes), f"scenario:{scenario}"),
                        )
                    conn.execute("UPDATE world SET revision = revision + 1 WHERE id = 1")
            if active is not None:
                return self._facts(scenario, active[0])
            self._cache.clear()
            self.regenerate(sc.model, start)
        return facts

    def clear(self, scenario: str) -> None:
        """The cause is fixed at now; the signals recover with the traffic lag."""
        self._scenario(scenario)
        self.catch_up()
        with self._lock:
            rows = self.q(
                "SELECT id, model FROM faults WHERE scenario = ? AND cleared IS NULL", (scenario,)
            )
            if not rows:
                return
            at = self.now_ts()
            self.changed(
                rows[0][1], at, "UPDATE faults SET cleared = ? WHERE id = ?", (at, rows[0][0])
            )

    def active_faults(self) -> list[dict]:
        return [
            self._facts(s, onset)
            for s, onset in self.q(
                "SELECT scenario, onset FROM faults WHERE cleared IS NULL ORDER BY id"
            )
        ]

    # ---- test helpers ------------------------------------------------------------------
    def break_backend(
        self,
        role: str,
        method: str,
        *,
        mode: str = "error",
        times: int = 1,
        delay_s: float = 0.0,
        route: str | None = None,
    ) -> None:
        """The next ``times`` calls of ``role.method`` fail — in every process using this file.
        ``mode``: "error" raises BackendError; "timeout" sleeps ``delay_s`` then raises;
        "slow" sleeps ``delay_s`` then does the call; "unhealthy" (only ``traffic.probe``)
        makes probes report unhealthy, of ``route`` only when given. ``times < 0`` means
        until ``repair_backend``."""
        if role not in ROLES:
            raise InvalidInput(f"unknown role {role!r}", hint=f"roles: {', '.join(ROLES)}")
        if mode not in BREAK_MODES:
            raise InvalidInput(f"unknown mode {mode!r}", hint=f"modes: {', '.join(BREAK_MODES)}")
        if mode == "unhealthy" and (role, method) != ("traffic", "probe"):
            raise InvalidInput("mode 'unhealthy' applies to traffic.probe only")
        with self.tx() as conn:
            conn.execute(
                "INSERT INTO breakages (role, method, mode, remaining, delay_s, route,"
                " created_at) VALUES (?,?,?,?,?,?,?)",
                (
                    role,
                    method,
                    mode,
                    -1 if times < 0 else int(times),
                    float(delay_s),
                    route,
                    time.time(),
                ),
            )

    def repair_backend(self, role: str | None = None, method: str | None = None) -> None:
        """Forget injected backend failures (all, or those of ``role``/``method``)."""
        with self.tx() as conn:
            conn.execute(
                "DELETE FROM breakages WHERE (? IS NULL OR role = ?) AND (? IS NULL OR method = ?)",
                (role, role, method, method),
            )

    def trip(self, role: str, method: str, route: str | None = None) -> str | None:
        """Consume one injected failure for this call: raises for "error"/"timeout", returns
        "unhealthy" for a broken probe, None when nothing is broken."""
        find = (
            "SELECT id, mode, remaining, delay_s FROM breakages WHERE role = ? AND"
            " method = ? AND remaining != 0 AND (route IS NULL OR route = ?)"
            " ORDER BY id LIMIT 1"
        )
        if not self.q(find, (role, method, route)):
            return None  # the common case: no write transaction
        with self.tx() as conn:
            row = conn.execute(find, (role, method, route)).fetchone()
            if row is None:
                return None
            bid, mode, remaining, delay = row
            if remaining > 0:
                conn.execute("UPDATE breakages SET remaining = remaining - 1 WHERE id = ?", (bid,))
        if mode == "unhealthy":
            return mode
        if mode == "slow":
            time.sleep(delay)
            return None
        if mode == "timeout":
            time.sleep(delay)
            raise BackendError(
                f"embedded {role}.{method} timed out after {delay:g}s (injected)",
                hint="retry, or check the backend",
            )
        raise BackendError(
            f"embedded {role}.{method} failed (injected failure)",
            hint="retry, or check the backend",
        )

    def corrupt_artifact(self, model: str, version: str) -> str:
        """Make the registry report a different artifact hash than the lineage records."""
        rows = self.q(
            "SELECT artifact_hash FROM versions WHERE model = ? AND version = ?", (model, version)
        )
        if not rows:
            raise NotFound(f"model {model!r} has no version {version!r}")
        bad = hashlib.sha256(f"{rows[0][0]}/corrupted".encode()).hexdigest()
        with self.tx() as conn:
            conn.execute(
                "UPDATE versions SET artifact_hash = ? WHERE model = ? AND version = ?",
                (bad, model, version),
            )
        return bad
