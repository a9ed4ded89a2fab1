"""Every key binding of the dashboard, by id: what the config file's ``keymap:`` may rebind.

Ids have the form ``area.action`` and are unique across the dashboard (a guard test checks it).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterator

from textual.binding import Binding

import edp_tui.ui


def binding_owners() -> Iterator[tuple[type, Binding]]:
    """(class, binding) for every `Binding` declared by a class of the ui package (each class once)."""
    seen: set[type] = set()
    for info in pkgutil.walk_packages(edp_tui.ui.__path__, "edp_tui.ui."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls in seen or not cls.__module__.startswith("edp_tui.ui"):
                continue
            seen.add(cls)
            for binding in vars(cls).get("BINDINGS", []):
                if isinstance(binding, Binding):
                    yield cls, binding


def known_binding_ids() -> set[str]:
    return {binding.id for _, binding in binding_owners() if binding.id}


# Where each class's keys apply, for the binding table of docs/configuration.md.
WHERE = {
    "EdpApp": "everywhere",
    "ServicesTable": "services panel",
    "NavTable": "every table",
    "LogView": "log views (container logs, compute logs)",
    "LogsPanel": "container logs",
    "RunsPanel": "runs list",
    "RunDetailPanel": "run detail",
    "LocationsPanel": "code locations",
    "SchedulesPanel": "schedules & sensors",
    "LaunchDialog": "launch dialog",
    "ReexecuteDialog": "re-execute dialog",
    "ConfirmScreen": "confirmations",
    "HelpScreen": "help screen",
    "ServiceDetailScreen": "service detail",
    "CheckDetailScreen": "check detail (Assets tab)",
    "RunEventsScreen": "event log and step timeline",
    "RunsTimelineScreen": "runs timeline",
    "AssetHistoryScreen": "asset history (Assets tab)",
    "ResourcesScreen": "CPU and memory graphs",
}


def binding_table() -> str:
    """The Markdown table of every binding id (docs/configuration.md holds it; a unit test compares)."""
    rows = ["| id | default keys | action | where |", "|---|---|---|---|"]
    for cls, binding in sorted(binding_owners(), key=lambda cb: cb[1].id or ""):
        if not binding.id:
            continue
        keys = ", ".join(f"`{k.strip()}`" for k in binding.key.split(","))
        where = WHERE.get(cls.__name__, cls.__name__)
        rows.append(f"| `{binding.id}` | {keys} | {binding.description} | {where} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(binding_table())
