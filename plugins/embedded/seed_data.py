"""First-use rows: the fleet's models, versions, stage history and route history."""

from __future__ import annotations

import json
from typing import Any

from plugins.embedded.fleet import DAY, FLEET, initial_routes


def insert_fleet(conn: Any, seed_now: float) -> None:
    """Write the registry and the route log as they stand at ``seed_now`` (epoch seconds)."""
    for pos, spec in enumerate(FLEET.values()):
        info = spec.info
        conn.execute(
            "INSERT OR REPLACE INTO models (name, position, description, serving_pattern, owner,"
            " key_signal, features, production) VALUES (?,?,?,?,?,?,?,?)",
            (
                info.name,
                pos,
                info.description,
                info.serving_pattern,
                info.owner,
                info.key_signal,
                json.dumps(list(info.features)),
                spec.production,
            ),
        )
        history = []
        for v in spec.versions:
            conn.execute(
                "INSERT OR REPLACE INTO versions (model, version, stage, created_at, lineage,"
                " tags, artifact_hash) VALUES (?,?,?,?,?,?,?)",
                (
                    info.name,
                    v.version,
                    v.stage,
                    seed_now - v.created_ago_s,
                    json.dumps(v.lineage, sort_keys=True),
                    json.dumps({"team": info.owner}),
                    v.lineage["artifact_hash"],
                ),
            )
            history += [
                (seed_now - ago, info.name, v.version, frm, to, actor, reason)
                for frm, to, ago, actor, reason in v.history
            ]
        for at, model, version, frm, to, actor, reason in sorted(history):
            conn.execute(
                "INSERT INTO stage_history (model, version, from_stage, to_stage, at, actor,"
                " reason) VALUES (?,?,?,?,?,?,?)",
                (model, version, frm, to, at, actor, reason),
            )
        conn.execute(
            "INSERT INTO route_log (model, at, weights, actor) VALUES (?,?,?,?)",
            (info.name, seed_now - 30 * DAY, json.dumps(initial_routes(spec)), "deploy-bot"),
        )
        for ago, weights in spec.route_changes:
            conn.execute(
                "INSERT INTO route_log (model, at, weights, actor) VALUES (?,?,?,?)",
                (info.name, seed_now - ago, json.dumps(weights), "omar.t"),
            )
