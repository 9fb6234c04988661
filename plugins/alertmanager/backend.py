"""The metrics role served by Alertmanager alone: alerts and silences, no signals."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

from console.backends.interfaces import Metrics
from console.backends.types import Alert, Point
from console.silences import Silence
from plugins.http_common.alertmanager import AlertmanagerClient


class AlertmanagerMetrics(Metrics):
    capabilities: ClassVar[frozenset[str]] = frozenset({"alerts", "silences"})

    def __init__(self, client: AlertmanagerClient) -> None:
        self.alertmanager = client

    def close(self) -> None:
        self.alertmanager.close()

    def query(
        self, signal: str, model: str, *, version: str | None = None, at: datetime | None = None
    ) -> float | None:
        return None  # Alertmanager holds no time series

    def query_range(
        self,
        signal: str,
        model: str,
        start: datetime,
        end: datetime,
        *,
        step_seconds: int = 60,
        version: str | None = None,
    ) -> list[Point]:
        return []

    def query_fleet(self, signal: str, *, at: datetime | None = None) -> dict[str, float | None]:
        return {}

    def active_alerts(self) -> list[Alert]:
        return self.alertmanager.alerts()

    def create_silence(self, matchers, *, author: str, comment: str, duration: timedelta) -> str:
        return self.alertmanager.create_silence(
            matchers, author=author, comment=comment, duration=duration
        )

    def expire_silence(self, silence_id: str) -> None:
        self.alertmanager.expire_silence(silence_id)

    def silences(self) -> list[Silence]:
        return self.alertmanager.silences()
