"""`KeysFooter`: Textual's Footer, its keys made in the footer's style at once.

Textual's `FooterKey` starts compact (`compact = reactive(True)`, its watcher toggling the ``-compact`` class)
and is then bound to the footer's own style (not compact here): mounting a key restyles it twice more, and
the footer is recomposed at every focus change, a dozen keys each time: a large share of the start's CPU
(docs/performance.md). Setting the key's value before it is mounted skips both restyles: Textual does not
initialize a reactive that already has a value, and the binding then changes nothing.

Textual's Footer also recomposes at every change of the screen's bindings signal even when the keys it shows
stay the same (at start most focus moves change no shown key): `recompose` does nothing then.
"""

from __future__ import annotations

from collections.abc import Hashable

from textual.app import ComposeResult
from textual.widgets import Footer

# FooterKey is not exported by textual.widgets, and a key's data bindings are private (`_reactive_connect`):
# tests/tui/test_footer.py pins both, and that every key keeps the style it had.
from textual.widgets._footer import FooterKey


class KeysFooter(Footer):
    composed: Hashable = None  # what the keys were made from the last time

    def shown(self) -> Hashable:
        """Everything Footer.compose makes its keys from (its `_bindings_ready` is private: pinned by
        tests/tui/test_footer.py)."""
        keys = tuple(
            (binding, enabled, tooltip)  # a Binding is a frozen dataclass: key, display, description, group
            for _node, binding, enabled, tooltip in self.screen.active_bindings.values()
            if binding.show
        )
        return (keys, self._bindings_ready, self.compact, self.show_command_palette)

    async def recompose(self) -> None:
        if self.is_attached and self.shown() == self.composed:
            return  # the same keys: nothing to remove, make and restyle again
        await super().recompose()

    def compose(self) -> ComposeResult:
        self.composed = self.shown()
        for widget in super().compose():
            # Only a key bound to the footer's style (the command palette's key is not: it stays compact).
            bound = (widget._reactive_connect or {}).get("compact") if isinstance(widget, FooterKey) else None
            if bound is not None and bound[0] is self:
                compact = self.compact
                widget.set_reactive(FooterKey.compact, compact)
                widget.set_class(compact, "-compact", update=False)
            yield widget
