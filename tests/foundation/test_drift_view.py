"""The console's drift table covers the model's declared features, as the runbook's check."""

from console.demo import start_demo
from console.views import drift_view
from console.workspace import open_workspace


def test_drift_view_covers_the_models_features_only(clock):
    with open_workspace("demo", clock=clock) as ws:
        state = start_demo(ws, "athena-null-feature")
        features = set(next(m for m in ws.backends.registry.models() if m.name == "churn").features)
        for incident in (state.incident.id, None):
            view = drift_view(ws, "churn", incident)
            names = {f.name for f in view.report.features}
            assert names <= features and "customer_id" not in names
            assert "avg_order_value_90d" in names
