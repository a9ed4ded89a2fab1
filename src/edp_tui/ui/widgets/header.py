"""The header: one line per glance telling which backend answers (Docker engine, webserver, daemon)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rich.text import Text
from textual.widget import Widget

from edp_tui.text import printable


class Level(StrEnum):
    OK = "ok"
    WARN = "warn"
    ERROR = "error"
    UNKNOWN = "unknown"


_MARK = {
    Level.OK: ("●", "bold green"),
    Level.WARN: ("●", "bold yellow"),
    Level.ERROR: ("✖", "bold red"),
    Level.UNKNOWN: ("○", "dim"),
}


@dataclass(frozen=True)
class BackendState:
    label: str
    level: Level
    text: str


class BackendHeader(Widget):
    """Backend states, in a fixed order. Other parts set theirs through ``App.set_backend_state``."""

    HELP = """\
## Header

Each backend the dashboard talks to, with its state:

- **docker**: the engine endpoint (DOCKER_HOST or the current docker context) and its version, or why it is
  unreachable and when the next attempt is.
- **webserver**: the Dagster webserver URL.
- **daemon**: the Dagster daemon's heartbeat.

● answers · ● (yellow) degraded · ✖ down · ○ not known yet. **READ-ONLY** means actions are refused.
On a narrow terminal each backend's text is shortened to keep the header on one line; **?** on a panel and
the services strip keep the details.
"""

    DEFAULT_CSS = """
    BackendHeader {
        height: 1;
        background: $panel;
        color: $text;
        padding: 0 1;
    }
    """

    def __init__(self, project: str, *, read_only: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.project = project
        self.read_only = read_only
        self._backends: dict[str, BackendState] = {}

    def set_backend(self, name: str, level: Level | str, text: str, label: str | None = None) -> None:
        """Create or update one backend's entry. ``text`` may come from outside: it is shown literally."""
        previous = self._backends.get(name)
        state = BackendState(label or (previous.label if previous else name), Level(level), text)
        if state != previous:
            self._backends[name] = state
            self.refresh()

    def backend(self, name: str) -> BackendState | None:
        return self._backends.get(name)

    def render(self) -> Text:
        # One line at any width: when everything does not fit, each backend's text is shortened (the marks and
        # labels always stay), so a small terminal keeps its rows for the panels.
        width = self.content_region.width or self.size.width or 200
        return self.line(width)

    def line(self, width: int) -> Text:
        states = list(self._backends.values())
        fixed = Text("edp-tui", style="bold")
        fixed.append(f"  project {printable(self.project)}")
        parts = [(state, printable(state.text)) for state in states]
        overhead = len(fixed) + sum(5 + 2 + len(state.label) + 1 for state in states)
        overhead += 14 if self.read_only else 0
        room = width - overhead
        texts = [text for _, text in parts]
        if sum(len(t) for t in texts) > room:
            # First the texts of the backends that answer go (their green mark says it all)...
            texts = ["" if state.level is Level.OK else text for state, text in parts]
        if sum(len(t) for t in texts) > room:
            # ...then the others share what is left.
            budget = max(0, room // max(1, len(texts)))
            texts = [t if len(t) <= budget else (t[: budget - 1] + "…" if budget > 1 else "") for t in texts]
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append_text(fixed)
        for (state, _), text in zip(parts, texts, strict=True):
            mark, style = _MARK[state.level]
            line.append("  │  ", style="dim")
            line.append(mark, style=style)
            line.append(f" {state.label}" + (" " if text else ""), style="bold")
            # Text.append never parses markup, and printable() neutralises control characters.
            line.append(text, style="red" if state.level is Level.ERROR else "")
        if self.read_only:
            line.append("  │  ", style="dim")
            line.append("READ-ONLY", style="bold reverse yellow")
        return line
