"""`show_text`: a Static's content set only when it changed. Textual repaints a Static at every `update`,
even with the same content, and the panels redraw what they read at each poll: unchanged text is not
repainted (nor sent to the terminal). `update_keeping_height`: a Static updated on every key, laid out only
when its height changes."""

from __future__ import annotations

from textual.geometry import Size
from textual.visual import VisualType
from textual.widgets import Static


def show_text(static: Static, content: VisualType) -> None:
    if static.content != content:
        static.update(content)


def update_keeping_height(static: Static, content: VisualType) -> None:
    """``static.update(content)``, with a layout of the screen only when the content's height differs from the
    height shown: Static.update lays the whole screen out unless told the size will not change, and a
    reflow of the whole dashboard on every key was most of a key's cost beside a table of thousands of
    rows."""
    static.update(content, layout=False)
    width, height = static.content_size
    # A Static is no container: its content height depends on the width alone.
    if not width or static.get_content_height(Size(0, 0), Size(0, 0), width) != height:
        static.refresh(layout=True)
