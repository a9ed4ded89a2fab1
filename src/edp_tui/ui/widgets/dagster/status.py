"""Colours of Dagster run and tick statuses, one table for every panel."""

from __future__ import annotations

from rich.text import Text

RUN_STATUS_STYLE = {
    "SUCCESS": "bold green",
    "FAILURE": "bold red",
    "CANCELED": "magenta",
    "CANCELING": "magenta",
    "STARTED": "bold cyan",
    "STARTING": "cyan",
    "QUEUED": "yellow",
    "NOT_STARTED": "dim",
    "MANAGED": "dim",
}
TICK_STATUS_STYLE = {"SUCCESS": "green", "FAILURE": "bold red", "SKIPPED": "yellow", "STARTED": "cyan"}


def status_text(status: str, styles: dict[str, str] = RUN_STATUS_STYLE) -> Text:
    return Text(status, style=styles.get(status, ""))
