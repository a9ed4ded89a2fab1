"""Hot reload on save, as the code server's supervisor reports it for each code location: one line per
location (watcher, last good load, reloading, a change not served), then the selected location's details:
a pending failure (the location keeps serving), what its code warned about while loading, and each reload
with its phases and times and what it changed."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from edp_tui.reload_status.models import Reload, ReloadStatus
from edp_tui.reload_status.reader import ReloadStatusSource
from edp_tui.text import printable, safe_text
from edp_tui.ui.widgets.polling import PollingPanel
from edp_tui.util import fmt

SHOWN_RELOADS = 8
SHOWN_FILES = 3
OUTCOME_STYLE = {"served": "bold green", "failed": "bold red", "failed_serving_error": "bold red"}


def reload_row(reload: Reload) -> Text:
    """``#7 09:35:52 watch  served  checked +0.31s · loaded +1.20s · served +1.21s  +1 asset  a.py``."""
    row = Text.assemble(
        (f"#{reload.id:<3} ", "bold"),
        (fmt.clock(reload.started_at) + " ", "dim"),
        f"{printable(reload.trigger):<7} ",
        (f"{printable(reload.outcome):<7} ", OUTCOME_STYLE.get(reload.outcome, "")),
    )
    row.append(reload.phase_line())
    if reload.dbt_parse not in ("skipped", "off", "?"):
        row.append(f" · dbt {printable(reload.dbt_parse)}", style="cyan")
    if reload.diff is not None and not reload.diff.empty:
        row.append(f"  {reload.diff.summary()}", style="yellow")
    if reload.files:
        # File names come from the user's tree: shown literally.
        row.append("  " + ", ".join(printable(f) for f in reload.files[:SHOWN_FILES]), style="dim")
        if len(reload.files) > SHOWN_FILES:
            row.append(f" (+{len(reload.files) - SHOWN_FILES})", style="dim")
    return row


def location_line(status: ReloadStatus) -> Text:
    """A location's reload state on a line: ``etl_pipeline  watching (native) · last good load 09:35:44``."""
    text = Text(printable(status.location), style="bold")
    text.append("  ")
    if not status.auto_reload:
        text.append("off (EDP_AUTO_RELOAD=0): reloads only when asked, still checked first")
    else:
        text.append(printable(status.watch_state))
        if status.watch_mode:
            text.append(f" ({printable(status.watch_mode)})")
    if status.in_progress:
        text.append(" · reloading…", style="yellow")
    if status.watch_error:
        text.append("  watch restarted: ", style="yellow")
        text.append_text(safe_text(status.watch_error))
    text.append(f" · last good load {fmt.clock(status.last_good_load_at)}", style="dim")
    if status.pending_failure is not None:
        text.append("  ⚠ change not served", style="bold red")
    if status.warnings:
        text.append(f"  {len(status.warnings)} load warning(s)", style="yellow")
    return text


def details_text(status: ReloadStatus) -> Text:
    """The selected location's pending failure, load warnings and reloads."""
    text = Text()
    pending = status.pending_failure
    if pending is not None:
        error = pending.error
        text.append("⚠ change not served", style="bold red")
        if error is not None:
            where = f" in {printable(error.where)}" if error.where else ""
            text.append(f" ({printable(error.kind)} error{where})", style="red")
        text.append(": ")
        text.append(printable(pending.message), style="bold")
        if error is not None and error.text:
            text.append("\n")
            text.append_text(safe_text(error.text))
    if status.warnings:
        if text:
            text.append("\n")
        text.append("Load warnings (its code's warnings while the served definitions loaded):", style="bold")
        for warning in status.warnings:
            text.append("\n  ⚠ ", style="yellow")
            text.append_text(safe_text(warning))
    reloads = list(reversed(status.reloads[-SHOWN_RELOADS:]))
    if reloads:
        if text:
            text.append("\n")
        text.append("Reloads, newest first (times since the change was seen):", style="bold")
        for reload in reloads:
            text.append("\n")
            text.append_text(reload_row(reload))
    return text


def status_text(statuses: Mapping[str, ReloadStatus], selected: str | None = None) -> Text:
    """Every location on a line of its own, then the details of ``selected`` (else of the first one)."""
    if not statuses:
        return Text(
            "Hot reload: no status from the code server (reload on save not running, or still starting)",
            style="dim",
        )
    names = sorted(statuses)
    shown = selected if selected is not None and selected in statuses else names[0]
    text = Text("Hot reload", style="bold")
    for name in names:
        text.append("\n")
        text.append("▸ " if name == shown and len(names) > 1 else "  ", style="bold")
        text.append_text(location_line(statuses[name]))
    details = details_text(statuses[shown])
    if details:
        text.append("\n")
        if len(names) > 1:
            text.append(f"{printable(shown)}: ", style="bold")
        text.append_text(details)
    return text


class ReloadStatusPanel(PollingPanel, can_focus=True):
    """Polls the supervisor's statuses while the Code locations tab is on screen; `select_location` picks the
    location whose details are shown (the one highlighted in the locations table)."""

    HELP = """\
## Hot reload

The code server reloads a code location by itself when one of its files is saved, and checks the change
before it replaces the running definitions. One line per location says how its files are watched and when
its definitions last loaded; below, the location highlighted in the table: a broken save with its file,
line and error (the location keeps serving the definitions of the last good load until a fix is saved), what
its code warned about while loading, and each reload with its phases (change seen, checked, loaded, served)
and what it changed.
"""

    # Focusable and scrolling: on a small terminal the details do not fit (arrows, page keys scroll them).
    DEFAULT_CSS = """
    ReloadStatusPanel { height: auto; max-height: 50%; overflow-y: auto; }
    ReloadStatusPanel:focus { border: round $accent; }
    ReloadStatusPanel > #reload-status { height: auto; padding: 0 1; }
    """

    poll_interval = 2.0

    def __init__(self, source: ReloadStatusSource, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.source = source
        self.statuses: dict[str, ReloadStatus] = {}
        self.selected: str | None = None

    def compose(self) -> ComposeResult:
        yield self.banner()
        yield Static(status_text({}), id="reload-status")

    def on_mount(self) -> None:
        self.border_title = "Hot reload"

    @property
    def status(self) -> ReloadStatus | None:
        """The status of the location whose details are shown."""
        if not self.statuses:
            return None
        return self.statuses.get(self.selected or "") or self.statuses[sorted(self.statuses)[0]]

    def select_location(self, name: str | None) -> None:
        if name != self.selected:
            self.selected = name
            self._show()

    async def poll_once(self) -> None:
        statuses = await asyncio.to_thread(self.source.read)
        if statuses != self.statuses or self.polls == 0:
            self.statuses = statuses
            self._show()

    def _show(self) -> None:
        for body in self.query("#reload-status").results(Static):  # none before it is composed
            body.update(status_text(self.statuses, self.selected))
