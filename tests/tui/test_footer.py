"""`KeysFooter` (ui/widgets/footer.py) against Textual's own Footer: every key in the same style, without the
two restyles per key Textual's keys pay at every recompose. Pins the private surfaces it relies on
(textual.widgets._footer.FooterKey, a widget's `_reactive_connect`)."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.dom import DOMNode
from textual.widgets import Button, Footer
from textual.widgets._footer import FooterKey

from edp_tui.ui.widgets.footer import KeysFooter
from tests.support.pilot import until


class FooterApp(App[None]):
    BINDINGS = [Binding("q", "quit", "Quit"), Binding("r", "reload", "Reload"), Binding("x", "stop", "Stop")]

    def __init__(self, footer: type[Footer]) -> None:
        super().__init__()
        self.footer_type = footer
        self.restyled_keys = 0

    def compose(self) -> ComposeResult:
        yield Button("one", id="one")
        yield Button("two", id="two")
        yield self.footer_type()

    def update_styles(self, node: DOMNode, animate: bool = True) -> None:
        if isinstance(node, FooterKey) and "-command-palette" not in node.classes:
            self.restyled_keys += 1
        super().update_styles(node, animate)


async def keys_after_focus_changes(footer: type[Footer]) -> tuple[list[tuple[Any, ...]], int]:
    app = FooterApp(footer)
    async with app.run_test() as pilot:
        for target in ("#two", "#one", "#two"):  # every focus change recomposes the footer
            app.query_one(target).focus()
            await pilot.pause()
        await until(pilot, lambda: len(app.query(FooterKey)) >= 4, what="the footer's keys")
        keys = [
            (k.key, k.description, k.compact, k.has_class("-compact"), k.render().plain)
            for k in app.query(FooterKey)
        ]
        return keys, app.restyled_keys


async def test_every_key_looks_as_in_textuals_footer() -> None:
    theirs, _ = await keys_after_focus_changes(Footer)
    ours, _ = await keys_after_focus_changes(KeysFooter)
    assert ours == theirs


async def test_a_key_bound_to_the_footers_style_is_not_restyled_after_it_is_made() -> None:
    _, restyled_theirs = await keys_after_focus_changes(Footer)
    _, restyled_ours = await keys_after_focus_changes(KeysFooter)
    assert restyled_theirs > 0  # what KeysFooter saves (were Textual to stop it, this file can go)
    assert restyled_ours == 0


async def test_the_keys_are_made_again_only_when_they_change() -> None:
    app = FooterApp(KeysFooter)
    async with app.run_test() as pilot:
        await until(pilot, lambda: len(app.query(FooterKey)) >= 3, what="the footer's keys")
        footer = app.query_one(KeysFooter)
        assert footer._bindings_ready  # Textual's private flag, part of what the keys are made from
        first = list(app.query(FooterKey))
        app.query_one("#two").focus()  # the same keys on the screen: the same widgets stay
        await footer.recompose()
        assert list(app.query(FooterKey)) == first
        app.bind("z", "zap", description="Zap")  # a new key: made again, with it
        app.refresh_bindings()
        await until(pilot, lambda: "Zap" in [k.description for k in app.query(FooterKey)], what="the new key")
        assert not set(first) & set(app.query(FooterKey))
