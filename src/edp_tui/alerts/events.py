"""`AlertEvent`: one thing worth telling, with an id that names it once (a run's failure, a check's failed
execution, one episode of a stale daemon or an unhealthy service, one refused reload)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RUN_FAILED = "run_failed"
CHECK_FAILED = "check_failed"
DAEMON_STALE = "daemon_stale"
RELOAD_REFUSED = "reload_refused"
SERVICE_UNHEALTHY = "service_unhealthy"
KINDS = (RUN_FAILED, CHECK_FAILED, DAEMON_STALE, RELOAD_REFUSED, SERVICE_UNHEALTHY)

ALERT_SCHEMA = "edp-tui.alert/1"


@dataclass(frozen=True)
class AlertEvent:
    kind: str
    id: str  # unique per event: the feed delivers an id once
    title: str
    text: str
    at: float  # seconds since the epoch: when it happened (else when it was seen)
    subject: str  # the run id, asset/check, daemon type, location or service
    details: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": ALERT_SCHEMA,
            "kind": self.kind,
            "id": self.id,
            "title": self.title,
            "text": self.text,
            "at": self.at,
            "subject": self.subject,
            "details": self.details,
        }
