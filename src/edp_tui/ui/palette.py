"""The command palette's panel commands: every key of the shell and of every panel on screen, by name.

A command runs exactly what its key runs (the same action on the same widget), so each panel's own checks
apply unchanged: read-only refusals, confirmations, "nothing selected". Panels off screen (another tab) offer
nothing; the tab switches are commands too.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

from textual.actions import parse
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widget import Widget

# Cursor keys of the tables and the shell's own entries (Help, Quit, Refresh services: listed by the App).
SKIPPED_IDS = frozenset({"table.first", "table.last", "app.help", "app.quit", "app.refresh"})


def own_bindings(node: DOMNode) -> list[Binding]:
    """The bindings declared by the node's classes in the edp_tui.ui package (not Textual's internals)."""
    found: list[Binding] = []
    for cls in type(node).__mro__:
        if not cls.__module__.startswith("edp_tui.ui"):
            continue
        found += [b for b in vars(cls).get("BINDINGS", []) if isinstance(b, Binding) and b.id]
    return [b for b in found if b.id not in SKIPPED_IDS]


def panel_name(widget: Widget) -> str:
    """The border title of the widget's panel (what the person sees), else the class name."""
    node: DOMNode | None = widget
    while isinstance(node, Widget):
        if node.border_title:
            return str(node.border_title)
        node = node.parent
    return type(widget).__name__


def applies(node: DOMNode, binding: Binding) -> bool:
    """False when the node hides this action right now (``check_action``), e.g. timestamps of untimed logs."""
    _, name, params = parse(binding.action)
    return node.check_action(name, params) is not False


async def run_on(widget: Widget, action: str) -> None:
    """Focus the widget (the action applies to its selection) and run the action as its key would."""
    if widget.focusable:
        widget.focus()
    await widget.run_action(action)


def panel_commands(app: App[Any], screen: Screen[Any]) -> Iterator[SystemCommand]:
    for binding in own_bindings(app):
        if applies(app, binding):
            key = app.get_key_display(binding)
            yield SystemCommand(binding.description, f"key {key}", partial(app.run_action, binding.action))
    seen: set[str] = set()
    for widget in screen.walk_children(Widget):
        bindings = own_bindings(widget)
        if not bindings or not widget.is_on_screen:
            continue
        name = panel_name(widget)
        for binding in bindings:
            title = f"{name}: {binding.description}"
            if title in seen or not applies(widget, binding):
                continue
            seen.add(title)
            key = app.get_key_display(binding)
            yield SystemCommand(title, f"key {key} in {name}", partial(run_on, widget, binding.action))
