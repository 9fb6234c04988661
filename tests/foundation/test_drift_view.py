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


def test_the_drift_view_bars_are_the_reference_bins_of_the_check(clock):
    with open_workspace("demo", clock=clock) as ws:
        state = start_demo(ws, "athena-null-feature")
        view = drift_view(ws, "churn", state.incident.id)
        feature = next(f for f in view.report.features if f.name == "tenure_months")
        labels, ref, cur = view.histograms["tenure_months"]
        assert len(labels) == len(ref) == len(cur) == len(feature.evidence["bin_edges"]) + 1
        assert abs(sum(ref) - 1) < 1e-9 and abs(sum(cur) - 1) < 1e-9
        assert labels[0].startswith("<")
