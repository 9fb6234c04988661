"""An incident's severity comes from the alert's label through the [severity] map; the
runbook's default applies when it is more severe or the label is unknown."""

from datetime import UTC, datetime

import pytest

from console.backends.types import Alert
from console.config import parse
from console.errors import ConfigError
from console.incidents import incident_severity


def alert(severity: str) -> Alert:
    return Alert("ModelErrorRateHigh", "churn", "fp", datetime(2026, 11, 22, tzinfo=UTC), severity)


class WS:
    def __init__(self, config):
        self.config = config


def config(raw=None, tmp_path=None):
    from pathlib import Path

    return parse(raw or {}, Path("/nowhere/config.toml"))


def test_labels_map_to_severities_and_the_runbook_default_can_raise_it():
    ws = WS(config())
    assert incident_severity(ws, alert("critical"), "SEV3") == "SEV2"  # not the runbook's SEV3
    assert incident_severity(ws, alert("page"), "SEV3") == "SEV1"
    assert incident_severity(ws, alert("warning"), "SEV2") == "SEV2"  # the runbook knows more
    assert incident_severity(ws, alert("whatever"), None) == "SEV3"
    assert incident_severity(ws, alert("whatever"), "SEV4") == "SEV4"


def test_the_map_is_configurable_and_checked():
    ws = WS(config({"severity": {"critical": "SEV1", "ticket": "SEV4"}}))
    assert incident_severity(ws, alert("critical"), "SEV3") == "SEV1"
    assert incident_severity(ws, alert("ticket"), None) == "SEV4"
    with pytest.raises(ConfigError, match=r"severity\.critical: must be one of SEV1"):
        config({"severity": {"critical": "urgent"}})
