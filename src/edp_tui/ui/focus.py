"""Where the focus goes: the panel holding a widget (what `m` maximizes), a tab's first focusable widget."""

from __future__ import annotations

from textual.widget import Widget

# Widgets that maximize as a whole when the focus is inside them (by name: no import cycle with the panels).
PANEL_CLASSES = ("PollingPanel", "ServicesPanel", "LogsPanel")


def panel_of(widget: Widget | None) -> Widget | None:
    """The panel (bordered box) that holds ``widget``, or None."""
    node: object = widget
    while isinstance(node, Widget):
        if any(cls.__name__ in PANEL_CLASSES for cls in type(node).__mro__):
            return node
        node = node.parent
    return None


def focus_first_in(container: Widget) -> None:
    """Focus the first focusable widget inside ``container`` (a tab's main panel comes first in its pane)."""
    target = next((w for w in container.query("*") if w.focusable), None)
    if target is not None:
        target.focus()
