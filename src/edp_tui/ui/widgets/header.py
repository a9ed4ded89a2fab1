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


def fair_cap(lengths: list[int], room: int) -> int:
    """The longest length each text may keep so that all fit in ``room``: short texts stay whole and what
    they leave goes to the long ones."""
    remaining, left = max(0, room), len(lengths)
    for length in sorted(lengths):
        share = remaining // left
        if length > share:
            return share
        remaining -= length
        left -= 1
    return max(lengths, default=0)


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
        """The header for ``width`` columns: in full when it fits; else without the texts of the backends that
        answer (their green mark says it); else with tight separators and no "project" word; else the
        remaining texts share what is left."""
        states = list(self._backends.values())
        full = [printable(state.text) for state in states]
        line = self._build(states, full, compact=False)
        if len(line) <= width:
            return line
        texts = ["" if state.level is Level.OK else text for state, text in zip(states, full, strict=True)]
        line = self._build(states, texts, compact=False)
        if len(line) <= width:
            return line
        line = self._build(states, texts, compact=True)
        excess = len(line) - width
        shown = [t for t in texts if t]
        if excess > 0 and shown:
            cap = fair_cap([len(t) for t in shown], sum(len(t) for t in shown) - excess)
            texts = [t if len(t) <= cap else (t[: cap - 1] + "…" if cap > 1 else "") for t in texts]
            line = self._build(states, texts, compact=True)
        return line

    def _build(self, states: list[BackendState], texts: list[str], *, compact: bool) -> Text:
        sep = " │ " if compact else "  │  "
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append("edp-tui", style="bold")
        line.append(f" {printable(self.project)}" if compact else f"  project {printable(self.project)}")
        for state, text in zip(states, texts, strict=True):
            mark, style = _MARK[state.level]
            line.append(sep, style="dim")
            line.append(mark, style=style)
            line.append(f" {state.label}" + (" " if text else ""), style="bold")
            # Text.append never parses markup, and printable() neutralises control characters.
            line.append(text, style="red" if state.level is Level.ERROR else "")
        if self.read_only:
            line.append(sep, style="dim")
            line.append("READ-ONLY", style="bold reverse yellow")
        return line
