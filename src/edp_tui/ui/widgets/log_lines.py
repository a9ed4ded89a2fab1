"""`LogLines`: the scrolling body of a `LogView` that renders only the rows on screen.

Rows come from a `LogBuffer` bounded in lines and bytes (Line API: `render_line`); rendered rows are kept in a
small LRU cache; wrapping, timestamps, service tags, search highlights and the filter are applied per row.

Long module: one ScrollView whose row index, strip cache, wrap/filter/search state and scroll-follow logic
all read and invalidate each other; split apart, every change would have to keep several files in step.
"""

from __future__ import annotations

import bisect
import math
import zlib
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip

from edp_tui.text import LogBuffer, LogLine, SearchQuery

# Distinct colours for service tags; a service always gets the same one (hash of its name).
SERVICE_COLOURS = (
    "cyan",
    "magenta",
    "green",
    "yellow",
    "bright_blue",
    "bright_red",
    "bright_cyan",
    "bright_magenta",
    "bright_green",
    "orange1",
)
TIMESTAMP_STYLE = Style(dim=True)
MESSAGE_STYLE = Style(italic=True, color="bright_yellow")
MATCH_STYLE = Style(bgcolor="yellow", color="black")
CURRENT_MATCH_STYLE = Style(bgcolor="dark_orange", color="black", bold=True)
MAX_TAG = 20
FLOOD_BATCH = 500  # lines in one flush from which the view is considered flooded
TIMESTAMP_WIDTH = 24  # "2024-05-01 10:00:00.123 "


@lru_cache(maxsize=256)
def service_style(service: str) -> Style:
    return Style(color=SERVICE_COLOURS[zlib.crc32(service.encode()) % len(SERVICE_COLOURS)], bold=True)


def _width(text: str) -> int:
    return len(text) if text.isascii() else cell_len(text)


class _Rows:
    """Sorted row keys (a seq, or (seq, part) when wrapped) with cheap trimming of the oldest ones."""

    def __init__(self) -> None:
        self.items: list[Any] = []

    def __len__(self) -> int:
        return len(self.items)

    def trim_below(self, key: Any) -> int:
        cut = bisect.bisect_left(self.items, key)
        if cut:
            del self.items[:cut]  # a memmove of a bounded list per flush, not per line
        return cut


class LogLines(ScrollView, can_focus=True):
    """The scrolling part of a LogView: renders only the visible rows of its buffer."""

    DEFAULT_CSS = """
    LogLines {
        height: 1fr;
        background: $surface;
        overflow-y: scroll;
        overflow-x: auto;
        scrollbar-gutter: stable;
        &:focus { background-tint: $foreground 4%; }
    }
    """

    class Changed(Message):
        """Something the status line shows changed (a flood posts one per flush: the last one will do)."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, LogLines.Changed)

    # View toggles: setting one lays the rows out again (the row being read stays in place).
    show_timestamps: var[bool] = var(False, init=False)
    wrap: var[bool] = var(False, init=False)
    show_service_tags: var[bool] = var(True, init=False)

    def __init__(self, max_lines: int, max_bytes: int, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.buffer = LogBuffer(max_lines=max_lines, max_bytes=max_bytes)
        self.search: SearchQuery | None = None
        self.filter: SearchQuery | None = None
        self.current_match: int | None = None
        self.following = True
        self.new_lines = 0
        """Lines that arrived while paused (scrolled up)."""
        self.lines_received = 0
        self._matches = _Rows()  # seqs of lines matching the search
        self._rows: _Rows | None = None  # explicit rows when filtering or wrapping, else row == line
        self._max_width = 0
        self._tag_width = 0
        self._text_width = 0  # width the rows were wrapped at
        self._cache: LRUCache[int, tuple[Strip, Strip, Strip]] = LRUCache(1024)
        self._scrolling_ourselves = False
        self._base_style: Style | None = None
        self._frame_width = 0

    # --- data -------------------------------------------------------------------------------------
    def add_lines(self, lines: list[LogLine]) -> None:
        """Append a batch (called by LogView's flush, on the event loop)."""
        if not lines:
            return
        buf = self.buffer
        start = buf.next_seq
        old_first = buf.first_seq
        old_rows = self.row_count
        buf.extend(lines)
        self.lines_received += len(lines)
        first = buf.first_seq
        tag = self._tag_width
        widest = 0
        for line in lines:
            if line.service is not None and self.show_service_tags and len(line.service) > tag:
                tag = min(len(line.service), MAX_TAG)
            w = _width(line.text)
            if w > widest:
                widest = w
        self._max_width = max(self._max_width, widest)
        new_seqs = range(max(start, first), buf.next_seq)
        if self.search:
            self._matches.trim_below(first)
            self._matches.items.extend(s for s in new_seqs if self.search.matches(buf.get(s).text))
            if self.current_match is not None and self.current_match < first:
                self.current_match = None
        rebuilt = False
        if tag != self._tag_width:
            self._tag_width = tag
            self._cache.clear()
            if self.wrap:  # a wider tag column changes where every line wraps
                self._rebuild_rows()
                rebuilt = True
        if self._rows is None:
            removed = first - old_first
        elif rebuilt:
            removed = 0  # the rows were rebuilt from the buffer, new lines included
        else:
            removed = self._rows.trim_below(self._row_key(first))
            self._rows.items.extend(self._rows_for(new_seqs))
        added = self.row_count - old_rows + removed
        self._update_virtual_size()
        if self.following:
            self._scroll_to_end()
        else:
            self.new_lines += added if self._rows is None else sum(1 for _ in self._shown_lines(new_seqs))
            if removed:
                # Keep the rows being read in place while older ones are evicted above them.
                self._set_scroll_y(max(0, self.scroll_y - removed))
        self.refresh()
        self.post_message(self.Changed())

    def clear(self) -> None:
        self.buffer.clear()
        self._matches = _Rows()
        self.current_match = None
        self._cache.clear()
        self._max_width = 0
        self._tag_width = 0
        self.new_lines = 0
        self.lines_received = 0
        self.following = True
        self._rows = _Rows() if self._rows is not None else None
        self._update_virtual_size()
        self._set_scroll_y(0)
        self.refresh()
        self.post_message(self.Changed())

    # --- rows -------------------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self.buffer) if self._rows is None else len(self._rows)

    @property
    def prefix_width(self) -> int:
        width = TIMESTAMP_WIDTH if self.show_timestamps else 0
        if self._tag_width and self.show_service_tags:
            width += self._tag_width + 3
        return width

    def _wrap_width(self) -> int:
        total = max(1, self.scrollable_content_region.width)
        rest = total - self.prefix_width
        return rest if rest >= 10 else total

    def _row_key(self, seq: int) -> Any:
        return (seq, 0) if self.wrap else seq

    def _shown_lines(self, seqs: Iterable[int]) -> Iterable[int]:
        if self.filter:
            return (s for s in seqs if self._passes_filter(self.buffer.get(s)))
        return seqs

    def _passes_filter(self, line: LogLine) -> bool:
        # A service's name selects its lines too ("user" keeps every line of user-code when interleaved).
        assert self.filter is not None
        return self.filter.matches(line.text) or (
            line.service is not None and self.filter.matches(line.service)
        )

    def _rows_for(self, seqs: Iterable[int]) -> Iterable[Any]:
        shown = self._shown_lines(seqs)
        if not self.wrap:
            return shown
        tw = self._text_width
        get = self.buffer.get
        return ((s, part) for s in shown for part in range(max(1, math.ceil(_width(get(s).text) / tw))))

    def _rebuild_rows(self) -> None:
        if not (self.wrap or self.filter):
            self._rows = None
        else:
            self._text_width = self._wrap_width()
            self._rows = _Rows()
            self._rows.items.extend(self._rows_for(range(self.buffer.first_seq, self.buffer.next_seq)))
        self._update_virtual_size()

    def _update_virtual_size(self) -> None:
        width = self.prefix_width + self._max_width if not self.wrap else 0
        self.virtual_size = Size(width, self.row_count)

    def _row(self, y: int) -> tuple[int, int] | None:
        if not 0 <= y < self.row_count:
            return None
        if self._rows is None:
            return self.buffer.first_seq + y, 0
        key = self._rows.items[y]
        return key if self.wrap else (key, 0)

    def _index_of_seq(self, seq: int) -> int:
        """Row index of the first row of line ``seq`` (or of the next shown line)."""
        if self._rows is None:
            return seq - self.buffer.first_seq
        return bisect.bisect_left(self._rows.items, self._row_key(seq))

    # --- modes ------------------------------------------------------------------------------------
    def watch_show_timestamps(self) -> None:
        self._relayout()

    def watch_wrap(self) -> None:
        self._relayout()

    def watch_show_service_tags(self, on: bool) -> None:
        self._tag_width = 0
        if on:
            names = {ln.service for ln in self.buffer if ln.service}
            self._tag_width = min(max((len(n) for n in names), default=0), MAX_TAG)
        self._relayout()

    def set_search(self, term: str) -> None:
        self.search = SearchQuery(term) if term else None
        self.current_match = None
        self._matches = _Rows()
        if self.search:
            match = self.search.matches
            self._matches.items = [
                s
                for s in range(self.buffer.first_seq, self.buffer.next_seq)
                if match(self.buffer.get(s).text)
            ]
        self._cache.clear()
        self.refresh()
        self.post_message(self.Changed())

    def set_filter(self, term: str) -> None:
        self.filter = SearchQuery(term) if term else None
        self._relayout()

    def _relayout(self) -> None:
        anchor = self._top_seq()
        self._cache.clear()
        self._rebuild_rows()
        if self.following:
            self._scroll_to_end()
        elif anchor is not None:
            self._set_scroll_y(min(self._index_of_seq(anchor), self.max_scroll_y))
        self.refresh()
        self.post_message(self.Changed())

    def _top_seq(self) -> int | None:
        row = self._row(round(self.scroll_y))
        return row[0] if row else None

    @property
    def match_count(self) -> int:
        return len(self._matches)

    def find_match(self, forward: bool) -> int | None:
        """Move to the next/previous matching line (wrapping around); returns its seq."""
        items = self._matches.items
        if not items:
            return None
        if self.current_match is not None:
            ref = self.current_match
            i = bisect.bisect_right(items, ref) if forward else bisect.bisect_left(items, ref) - 1
        else:
            top = self._top_seq()
            ref = top if top is not None else self.buffer.first_seq
            i = bisect.bisect_left(items, ref) if forward else bisect.bisect_left(items, ref) - 1
        seq = items[i % len(items)]
        self.current_match = seq
        self._cache.clear()
        self.following = False
        row = self._index_of_seq(seq)
        height = self.scrollable_content_region.height
        self._set_scroll_y(max(0, min(row - height // 2, self.max_scroll_y)))
        self.refresh()
        self.post_message(self.Changed())
        return seq

    def match_position(self) -> int | None:
        """1-based index of the current match among all matches."""
        if self.current_match is None:
            return None
        i = bisect.bisect_left(self._matches.items, self.current_match)
        return i + 1 if i < len(self._matches) and self._matches.items[i] == self.current_match else None

    # --- following --------------------------------------------------------------------------------
    def follow(self) -> None:
        self.following = True
        self.new_lines = 0
        self._scroll_to_end()
        self.post_message(self.Changed())

    def _scroll_to_end(self) -> None:
        self._set_scroll_y(self.max_scroll_y)

    def _set_scroll_y(self, y: float) -> None:
        self._scrolling_ourselves = True
        try:
            self.scroll_to(y=y, animate=False, immediate=True)
        finally:
            self._scrolling_ourselves = False

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._scrolling_ourselves:
            return
        at_end = new_value >= self.max_scroll_y
        if at_end and not self.following:
            self.following = True
            self.new_lines = 0
            self.post_message(self.Changed())
        elif not at_end and self.following and new_value < old_value:
            self.following = False
            self.post_message(self.Changed())

    def on_resize(self, event: events.Resize) -> None:
        if self.wrap and self._wrap_width() != self._text_width:
            self._relayout()
        elif self.following:
            self._scroll_to_end()

    # --- rendering --------------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()
        self._base_style = None

    @property
    def base_style(self) -> Style:
        # Widget.rich_style walks the DOM on every call: compute it once per style change.
        if self._base_style is None:
            self._base_style = self.rich_style
        return self._base_style

    def _strips(self, seq: int) -> tuple[Strip, Strip, Strip]:
        """(prefix, text, prefix + text) of line ``seq``, cached: Strips are costly to build."""
        cached = self._cache.get(seq)
        if cached is not None:
            return cached
        line = self.buffer.get(seq)
        base = self.base_style
        prefix: list[Segment] = []
        if self.show_timestamps:
            ts = line.timestamp
            shown = f"{ts[:10]} {ts[11:23]} " if ts and len(ts) >= 23 else " " * TIMESTAMP_WIDTH
            prefix.append(Segment(shown.ljust(TIMESTAMP_WIDTH), base + TIMESTAMP_STYLE))
        if self._tag_width and self.show_service_tags:
            name = (line.service or "")[: self._tag_width]
            style = service_style(line.service) if line.service else base
            prefix.append(Segment(name.ljust(self._tag_width), base + style))
            prefix.append(Segment(" │ ", base + TIMESTAMP_STYLE))
        if not line.spans and line.stream != 0 and not self.search:
            # Most lines: one plain segment, no Text/console round trip (this runs for every new line shown).
            width = _width(line.text)
            body_segments = [Segment(line.text, base)]
            prefix_strip = Strip(prefix)
            joined = Strip([*prefix, *body_segments], prefix_strip.cell_length + width)
            strips = (prefix_strip, Strip(body_segments, width), joined)
            self._cache[seq] = strips
            return strips
        text = Text(line.text, style=base, no_wrap=True, end="")
        for span in line.spans:
            text.stylize(span.style, span.start, span.end)
        if line.stream == 0:
            text.stylize(MESSAGE_STYLE)
        if self.search:
            hl = CURRENT_MATCH_STYLE if seq == self.current_match else MATCH_STYLE
            for start, end in self.search.spans(line.text):
                text.stylize(hl, start, end)
        body_segments = list(text.render(self.app.console))
        prefix_strip = Strip(prefix)
        width = _width(line.text)
        joined = Strip([*prefix, *body_segments], prefix_strip.cell_length + width)
        strips = (prefix_strip, Strip(body_segments, width), joined)
        self._cache[seq] = strips
        return strips

    def render_lines(self, crop: Region) -> list[Strip]:
        self._frame_width = self.scrollable_content_region.width  # once per paint, not once per row
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self._frame_width or self.scrollable_content_region.width
        row = self._row(scroll_y + y)
        if row is None:
            return Strip.blank(width, self.base_style)
        seq, part = row
        prefix, body, joined = self._strips(seq)
        if self.wrap:
            tw = self._text_width
            piece = body.crop(part * tw, (part + 1) * tw)
            lead = prefix if part == 0 else Strip.blank(prefix.cell_length, self.base_style)
            if tw == width:  # too narrow for a prefix column
                lead = Strip([])
            strip = Strip.join([lead, piece]).extend_cell_length(width, self.base_style)
            return strip.crop(0, width)
        return joined.crop_extend(scroll_x, scroll_x + width, self.base_style)

    def visible_text(self) -> list[str]:
        """Plain text of the rows in the viewport (what a person sees), for tests and tools."""
        height = min(self.scrollable_content_region.height, self.row_count - round(self.scroll_y))
        return [self.render_line(y).text.rstrip() for y in range(max(0, height))]
