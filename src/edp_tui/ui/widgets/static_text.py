"""`show_text`: a Static's content set only when it changed. Textual repaints a Static at every `update`,
even with the same content, and the panels redraw what they read at each poll: unchanged text is not
repainted (nor sent to the terminal)."""

from __future__ import annotations

from textual.visual import VisualType
from textual.widgets import Static


def show_text(static: Static, content: VisualType) -> None:
    if static.content != content:
        static.update(content)
