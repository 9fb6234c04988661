"""Backend plugin interfaces, the data they exchange, and plugin discovery.

The core talks to registries, metrics, traffic and prediction logs only through these
interfaces; it never imports a specific backend.
"""
