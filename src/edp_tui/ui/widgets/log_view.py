"""LogView: a reusable, bounded log viewer (container logs, Dagster compute logs).

- Only the rows on screen are rendered (Line API: `LogLines.render_line`), from a `LogBuffer` bounded in lines
  and bytes; rendered lines are kept in a small LRU cache.
- Updates are batched: `append_lines` only queues, the queue is flushed at most every ``flush_interval``
  (three times that during a flood: every flush repaints the whole view, keys need the time more).
- Follow: new lines scroll into view while the view is at the bottom. Scrolling up pauses and the status line
  counts "+N new lines"; End (or G) follows again.
- Search (`/`, `n`, `N`) highlights every match and jumps between matching lines; filter (`f` or `|`) hides
  the lines that do not match; `t` toggles timestamps, `w` wrapping. Each service's tag has its own colour.
- Outside text is never interpreted: lines are sanitized `LogLine`s (edp_tui.text) rendered from plain
  `Text` objects; the status line is built the same way.

Public API for other panels: `append_lines(lines)`, `append_message(text)`, `clear()`,
`set_source_label(text)`, `show_service_tags`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.reactive import var
from textual.widget import Widget
from textual.widgets import Input

from edp_tui.text import LogBuffer, LogLine, message_line
from edp_tui.ui.notify import report
from edp_tui.ui.widgets.log_lines import FLOOD_BATCH, LogLines


class StatusLine(Widget):
    """One line of status. Unlike Static.update, a new text only repaints this line: no layout pass, which
    matters when it changes on every flush of a log flood."""

    DEFAULT_CSS = "StatusLine { height: 1; width: 1fr; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text = Text()

    def set_text(self, text: Text) -> None:
        if text.plain != self._text.plain or text.spans != self._text.spans:
            self._text = text
            self.refresh()

    def render(self) -> Text:
        return self._text


class LogView(Vertical):
    """Log lines + a search/filter input + a status line. See the module docstring."""

    HELP = """\
## Logs

Lines are shown literally (markup and control characters are made visible; ANSI colours kept).
Memory is bounded: the oldest lines are dropped beyond the limit (the status line counts them).

| key | what it does |
|---|---|
| `/` | search: highlight every match and jump to the next one |
| `n` / `N` | next / previous matching line |
| `f` or `\\|` | filter: show only the lines that contain the text, or of services whose name does |
| `escape` | clear the search and the filter |
| `t` | show or hide timestamps |
| `w` | wrap long lines or scroll sideways |
| `end` / `G` | follow new lines again (scrolling up pauses; the status line counts "+N new lines") |
| `home` / `g` | oldest line kept |

Search and filter ignore case unless the text has a capital letter.
"""

    DEFAULT_CSS = """
    LogView {
        height: 1fr;
        & > #log-input { display: none; dock: bottom; margin-bottom: 1; }
        & > #log-input.-open { display: block; }
        & > #log-status { dock: bottom; height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "open_input('search')", "Search", id="logs.search"),
        Binding("n", "next_match", "Next", id="logs.next"),
        Binding("N", "previous_match", "Prev", id="logs.previous"),
        Binding("f,vertical_line", "open_input('filter')", "Filter", id="logs.filter"),
        Binding("escape", "clear_search", "Clear search", id="logs.clear", show=False),
        Binding("t", "toggle_timestamps", "Timestamps", id="logs.timestamps"),
        Binding("w", "toggle_wrap", "Wrap", id="logs.wrap"),
        Binding("end,G", "follow", "Follow", id="logs.follow"),
        Binding("home,g", "oldest", "Oldest", id="logs.oldest", show=False),
    ]

    input_mode: var[str | None] = var(None)

    def __init__(
        self,
        *,
        max_lines: int = 10_000,
        max_bytes: int = 8 * 1024 * 1024,
        flush_interval: float = 0.05,
        source_label: str = "",
        timestamps: bool = True,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """``timestamps=False``: the lines carry none (compute logs), so `t` is hidden and does nothing."""
        super().__init__(id=id, classes=classes)
        self.has_timestamps = timestamps
        self._max_lines = max_lines
        self._max_bytes = max_bytes
        self.flush_interval = flush_interval
        self._interval = flush_interval
        self.source_label = source_label
        self._pending: list[LogLine] = []
        self.pending_dropped = 0
        """Lines dropped before display because more than max_lines arrived between two flushes."""
        self._flush_scheduled = False
        self._last_flush = 0.0
        self.lines_widget = LogLines(max_lines, max_bytes, id="log-lines")

    def compose(self) -> ComposeResult:
        yield self.lines_widget
        yield Input(id="log-input")
        yield StatusLine(id="log-status")

    def on_mount(self) -> None:
        self._update_status()

    # --- public API -------------------------------------------------------------------------------
    def append_lines(self, lines: Iterable[LogLine]) -> None:
        """Queue lines for display (on the event loop; from a thread use ``app.call_from_thread``)."""
        pending = self._pending
        pending.extend(lines)
        if len(pending) > self._max_lines:
            # Only the newest max_lines can be shown anyway: drop the rest before doing any work on them.
            cut = len(pending) - self._max_lines
            del pending[:cut]
            self.pending_dropped += cut
        if pending and not self._flush_scheduled:
            self._flush_scheduled = True
            delay = self._last_flush + self._interval - time.monotonic()
            if delay > 0.001:
                self.set_timer(delay, self._flush)
            else:
                self.call_later(self._flush)

    def append_message(self, text: str, *, service: str | None = None) -> None:
        """A line from the dashboard itself (shown in a distinct style)."""
        self.append_lines([message_line(text, service=service)])

    def clear(self) -> None:
        """Forget every line (pending ones too)."""
        self._pending.clear()
        self.pending_dropped = 0
        self.lines_widget.clear()

    def set_source_label(self, label: str) -> None:
        """What the status line says these logs are (e.g. "user-code · last 1000 lines")."""
        self.source_label = label
        self._update_status()

    @property
    def show_service_tags(self) -> bool:
        return self.lines_widget.show_service_tags

    @show_service_tags.setter
    def show_service_tags(self, on: bool) -> None:
        self.lines_widget.show_service_tags = on

    @property
    def buffer(self) -> LogBuffer:
        return self.lines_widget.buffer

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    def flush_now(self) -> None:
        """Display queued lines immediately (tests, and before reading the buffer)."""
        self._flush()

    # --- batching ---------------------------------------------------------------------------------
    def _flush(self) -> None:
        self._flush_scheduled = False
        self._last_flush = time.monotonic()
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        # A flood (many lines per flush): flush less often, so painting leaves room for key presses.
        self._interval = self.flush_interval * (3 if len(batch) >= FLOOD_BATCH else 1)
        self.lines_widget.add_lines(batch)

    # --- actions ----------------------------------------------------------------------------------
    def action_open_input(self, mode: str) -> None:
        self.input_mode = mode
        field = self.query_one("#log-input", Input)
        lines = self.lines_widget
        current = lines.search if mode == "search" else lines.filter
        field.value = current.term if current else ""
        field.placeholder = (
            "search (enter: find, escape: cancel)"
            if mode == "search"
            else "filter: show only lines containing…"
        )
        field.add_class("-open")
        field.focus()

    @on(Input.Submitted, "#log-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        mode, self.input_mode = self.input_mode, None
        self._close_input()
        lines = self.lines_widget
        if mode == "search":
            lines.set_search(event.value)
            if lines.search:
                lines.find_match(forward=True)
        elif mode == "filter":
            lines.set_filter(event.value)
        self._update_status()

    def _close_input(self) -> None:
        field = self.query_one("#log-input", Input)
        field.remove_class("-open")
        self.lines_widget.focus()

    def action_clear_search(self) -> None:
        if self.input_mode is not None:
            self.input_mode = None
            self._close_input()
            return
        lines = self.lines_widget
        if lines.search:
            lines.set_search("")
        if lines.filter:
            lines.set_filter("")

    def action_next_match(self) -> None:
        if self.lines_widget.find_match(forward=True) is None and self.lines_widget.search:
            report(self, "no line matches", timeout=2)

    def action_previous_match(self) -> None:
        if self.lines_widget.find_match(forward=False) is None and self.lines_widget.search:
            report(self, "no line matches", timeout=2)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_timestamps" and not self.has_timestamps:
            return False
        return True

    def action_toggle_timestamps(self) -> None:
        self.lines_widget.show_timestamps = not self.lines_widget.show_timestamps

    def action_toggle_wrap(self) -> None:
        self.lines_widget.wrap = not self.lines_widget.wrap

    def action_follow(self) -> None:
        self.lines_widget.follow()

    def action_oldest(self) -> None:
        lines = self.lines_widget
        lines.following = False
        lines._set_scroll_y(0)
        self._update_status()

    # --- status -----------------------------------------------------------------------------------
    @on(LogLines.Changed)
    def _lines_changed(self, event: LogLines.Changed) -> None:
        event.stop()
        self._update_status()

    def status_text(self) -> Text:
        lines = self.lines_widget
        parts: list[tuple[str, str | Style]] = []
        if self.source_label:
            parts.append((self.source_label, "bold"))
        if lines.following:
            parts.append(("following", "green"))
        else:
            more = f" · +{lines.new_lines:,} new lines (end: follow)" if lines.new_lines else " (end: follow)"
            parts.append(("paused" + more, "bold yellow"))
        if lines.search:
            pos = lines.match_position()
            where = f" {pos}/{lines.match_count:,}" if pos else f" {lines.match_count:,} lines"
            parts.append((f"/{lines.search.term}:{where}", "bold"))
        if lines.filter:
            parts.append(
                (f"filter “{lines.filter.term}”: {lines.row_count:,} of {len(lines.buffer):,}", "bold")
            )
        parts.append((f"{len(lines.buffer):,} lines", ""))
        dropped = lines.buffer.dropped_lines + self.pending_dropped
        if dropped:
            parts.append((f"{dropped:,} older dropped", "dim"))
        flags = [name for name, on in (("timestamps", lines.show_timestamps), ("wrap", lines.wrap)) if on]
        if flags:
            parts.append((" ".join(flags), "dim"))
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        for i, (piece, style) in enumerate(parts):
            if i:
                text.append(" · ", "dim")
            text.append(piece, style)  # appended as plain text: a search term like "[red]" stays literal
        return text

    def _update_status(self) -> None:
        if self.is_mounted:
            self.query_one("#log-status", StatusLine).set_text(self.status_text())
