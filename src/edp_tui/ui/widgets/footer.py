"""`KeysFooter`: Textual's Footer, its keys made in the footer's style at once.

Textual's `FooterKey` starts compact (`compact = reactive(True)`, its watcher toggling the ``-compact`` class)
and is then bound to the footer's own style (not compact here): mounting a key restyles it twice more, and
the footer is recomposed at every focus change, a dozen keys each time: a large share of the start's CPU
(docs/performance.md). Setting the key's value before it is mounted skips both restyles: Textual does not
initialize a reactive that already has a value, and the binding then changes nothing.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer

# FooterKey is not exported by textual.widgets, and a key's data bindings are private (`_reactive_connect`):
# tests/tui/test_footer.py pins both, and that every key keeps the style it had.
from textual.widgets._footer import FooterKey


class KeysFooter(Footer):
    def compose(self) -> ComposeResult:
        for widget in super().compose():
            # Only a key bound to the footer's style (the command palette's key is not: it stays compact).
            bound = (widget._reactive_connect or {}).get("compact") if isinstance(widget, FooterKey) else None
            if bound is not None and bound[0] is self:
                compact = self.compact
                widget.set_reactive(FooterKey.compact, compact)
                widget.set_class(compact, "-compact", update=False)
            yield widget
