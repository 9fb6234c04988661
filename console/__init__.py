"""Rollbook: the on-call console for ML models in production.

The package root stays light on purpose: ``rollbook --help`` must not import Textual,
pandas or scipy. Import heavy modules inside the functions that need them.
"""

__version__ = "0.1.0"
