"""Runbooks as code and the incident engine.

A runbook (YAML, ``runbooks/`` plus the folders in config ``[runbooks] paths``) walks an
incident through six phases — detect, triage, mitigate, diagnose, fix, review — in steps of
five kinds: check, action, manual, decision, note. The engine (``Engine``) runs the steps
and records each on the incident's timeline; drills (``run_drill``) inject a fault and score
the response.

The package root stays light: import the submodules you need.
"""
