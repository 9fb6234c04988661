"""Mitigations that are safe at 3 AM: rollback, kill switch, traffic, stages, rollout.

Every action is planned first (a dry run prints the plan), guarded (read-only mode,
two-person rule), executed step by step with each step read back, and recorded on the
incident's timeline — or on a standalone audit record when no incident is open.
"""
