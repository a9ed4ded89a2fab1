"""The help screen: what the focused panel shows and which keys act on it."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Markdown

GENERAL_HELP = """\
## edp-tui

Supervises the compose stack: services and their health, container logs, and (with a webserver) Dagster.

- **tab** / **shift+tab** move the focus between panels; **?** explains the focused one.
- **ctrl+p** opens the command palette: every action, searchable.
- Keys can be rebound in the config file (`keymap:` binding id → keys), e.g. `services.restart: ctrl+r`.
"""


def help_for(widget: Widget | None) -> str | None:
    """The HELP text of the focused widget or its nearest ancestor that has one."""
    node = widget
    while node is not None:
        text = getattr(type(node), "HELP", None)
        if isinstance(text, str) and text.strip():
            return text
        node = node.parent if isinstance(node.parent, Widget) else None
    return None


def bindings_table(rows: Iterable[tuple[str, str, str]]) -> str:
    lines = ["## Keys here", "", "| keys | action | binding id |", "|---|---|---|"]
    for keys, description, binding_id in rows:
        lines.append(f"| `{keys}` | {description} | {binding_id or ''} |")
    return "\n".join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss_help", "Close", id="help.close")]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 90%;
        max-width: 110;
        height: 90%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    """

    def __init__(self, focused_help: str | None, keys: Iterable[tuple[str, str, str]]) -> None:
        super().__init__()
        self._document = "\n\n".join(
            part for part in (focused_help, bindings_table(keys), GENERAL_HELP) if part
        )

    @property
    def document(self) -> str:
        return self._document

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(self._document)

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
