"""Outside text (container logs, compute logs, error messages) made safe to display. No Textual here.

- `logline`: `LogLine`, the display line sources build and widgets render;
- `sanitize`: `sanitize()` (control characters, ANSI SGR, long lines) and `printable()`;
- `convert`: outside text into `LogLine`s and `Text`s: chunks of a stream into lines (`LineSplitter`),
  `make_line`, `safe_text`;
- `buffer`: `LogBuffer`, bounded in lines and bytes; `search`: `SearchQuery`.
"""

from edp_tui.text.buffer import LogBuffer
from edp_tui.text.convert import (
    LineSplitter,
    lines_from_text,
    make_line,
    message_line,
    normalize_timestamp,
    safe_text,
    to_text,
)
from edp_tui.text.logline import DEFAULT_MAX_CHARS, LINE_OVERHEAD_BYTES, TAB_SIZE, LogLine, Span
from edp_tui.text.sanitize import needs_sanitizing, printable, sanitize
from edp_tui.text.search import SearchQuery

__all__ = [
    "DEFAULT_MAX_CHARS",
    "LINE_OVERHEAD_BYTES",
    "TAB_SIZE",
    "LineSplitter",
    "LogBuffer",
    "LogLine",
    "SearchQuery",
    "Span",
    "lines_from_text",
    "make_line",
    "message_line",
    "needs_sanitizing",
    "normalize_timestamp",
    "printable",
    "safe_text",
    "sanitize",
    "to_text",
]
