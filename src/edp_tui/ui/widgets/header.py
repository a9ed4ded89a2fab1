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
"""

    DEFAULT_CSS = """
    BackendHeader {
        height: auto;
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
            self.refresh(layout=True)

    def backend(self, name: str) -> BackendState | None:
        return self._backends.get(name)

    def render(self) -> Text:
        line = Text(no_wrap=False, overflow="fold")
        line.append("edp-tui", style="bold")
        line.append(f"  project {printable(self.project)}")
        for state in self._backends.values():
            mark, style = _MARK[state.level]
            line.append("  │  ", style="dim")
            line.append(mark, style=style)
            line.append(f" {state.label} ", style="bold")
            # Text.append never parses markup, and printable() neutralises control characters.
            line.append(printable(state.text), style="red" if state.level is Level.ERROR else "")
        if self.read_only:
            line.append("  │  ", style="dim")
            line.append("READ-ONLY", style="bold reverse yellow")
        return line
