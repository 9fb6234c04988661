"""What the HTTP-speaking plugins share, so that no plugin imports another.

- ``plugins.http_common.api``: a JSON-over-HTTP client (MLflow, Prometheus, Alertmanager)
  that reports "unreachable", "timed out" and "answered an error" alike, and the URL,
  timeout and auth options every such plugin reads;
- ``plugins.http_common.probe``: the ``http`` probe (health, then a sample prediction);
- ``plugins.http_common.samples``: parsing what Prometheus and Alertmanager send (values,
  times, fingerprints, alerts);
- ``plugins.http_common.alertmanager``: Alertmanager's v2 API client (alerts, silences),
  used by the ``prometheus`` plugin (``alertmanager_url``) and the ``alertmanager`` plugin.

This package is the shared layer: it imports ``console`` and third-party libraries, never a
plugin (the import contracts in ``pyproject.toml`` check it). Nothing is imported here, so
importing one submodule does not load the others.
"""
