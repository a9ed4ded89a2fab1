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
