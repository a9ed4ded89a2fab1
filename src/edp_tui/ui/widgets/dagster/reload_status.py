"""Hot reload on save, as the code server's supervisor reports it: each reload with its phases and times,
what changed in the definitions, the last good load and a pending failure (the location keeps serving)."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from edp_tui.reload_status.models import Reload, ReloadStatus
from edp_tui.reload_status.reader import ReloadStatusSource
from edp_tui.text import safe_text
from edp_tui.ui.widgets.polling import PollingPanel
from edp_tui.util import fmt

SHOWN_RELOADS = 8
OUTCOME_STYLE = {"served": "bold green", "failed": "bold red", "failed_serving_error": "bold red"}


def reload_row(reload: Reload) -> Text:
    """``#7 09:35:52 watch  served  checked +0.31s · loaded +1.20s · served +1.21s  +1 asset  a.py``."""
    row = Text.assemble(
        (f"#{reload.id:<3} ", "bold"),
        (fmt.clock(reload.started_at) + " ", "dim"),
        f"{reload.trigger:<7} ",
        (f"{reload.outcome:<7} ", OUTCOME_STYLE.get(reload.outcome, "")),
    )
    row.append(reload.phase_line())
    if reload.dbt_parse not in ("skipped", "off", "?"):
        row.append(f" · dbt {reload.dbt_parse}", style="cyan")
    if reload.diff is not None and not reload.diff.empty:
        row.append(f"  {reload.diff.summary()}", style="yellow")
    if reload.files:
        row.append_text(Text("  " + ", ".join(reload.files[:3]), style="dim"))
        if len(reload.files) > 3:
            row.append(f" (+{len(reload.files) - 3})", style="dim")
    return row


def status_text(status: ReloadStatus | None) -> Text:
    if status is None:
        return Text(
            "Hot reload: no status from the code server (reload on save not running, or still starting)",
            style="dim",
        )
    text = Text()
    text.append("Hot reload: ", style="bold")
    if not status.auto_reload:
        text.append("off (EDP_AUTO_RELOAD=0): reloads only when asked, still checked first")
    else:
        text.append(f"{status.watch_state}" + (f" ({status.watch_mode})" if status.watch_mode else ""))
    if status.in_progress:
        text.append(" · reloading…", style="yellow")
    if status.watch_error:
        text.append("  watch restarted: ", style="yellow")
        text.append_text(safe_text(status.watch_error))
    text.append(f" · last good load {fmt.clock(status.last_good_load_at)}", style="dim")
    pending = status.pending_failure
    if pending is not None:
        error = pending.error
        text.append("\n⚠ change not served", style="bold red")
        if error is not None:
            text.append(f" ({error.kind} error{' in ' + error.where if error.where else ''})", style="red")
        text.append(": ")
        text.append(pending.message, style="bold")
        if error is not None and error.text:
            text.append("\n")
            text.append_text(safe_text(error.text))
    reloads = list(reversed(status.reloads[-SHOWN_RELOADS:]))
    if reloads:
        text.append("\nReloads, newest first (times since the change was seen):", style="bold")
        for reload in reloads:
            text.append("\n")
            text.append_text(reload_row(reload))
    return text


class ReloadStatusPanel(PollingPanel):
    """Polls the supervisor's status while the Code locations tab is on screen."""

    HELP = """\
## Hot reload

The code server reloads by itself when a file under `etl_pipeline/src` or `dbt_project` is saved, and checks
the change before it replaces the running definitions. Each reload is listed with its phases (change seen,
checked, loaded, served) and what it changed. A broken save is shown with its file, line and error, and the
location keeps serving the definitions of the last good load until a fix is saved.
"""

    DEFAULT_CSS = """
    ReloadStatusPanel { height: auto; max-height: 50%; }
    ReloadStatusPanel > #reload-status { height: auto; padding: 0 1; }
    """

    poll_interval = 2.0

    def __init__(self, source: ReloadStatusSource, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.source = source
        self.status: ReloadStatus | None = None

    def compose(self) -> ComposeResult:
        yield self.banner()
        yield Static(status_text(None), id="reload-status")

    def on_mount(self) -> None:
        self.border_title = "Hot reload"

    async def poll_once(self) -> None:
        status = await asyncio.to_thread(self.source.read)
        if status != self.status or self.polls == 0:
            self.status = status
            self.query_one("#reload-status", Static).update(status_text(status))
