"""One display line of outside text, as sources build it and widgets render it. No Textual here."""

from __future__ import annotations

from typing import NamedTuple

from rich.style import Style

# Longest line kept for display; the rest is replaced by a marker saying how much was cut.
DEFAULT_MAX_CHARS = 8_192
TAB_SIZE = 8

# Per-line bookkeeping cost added to a line's text size when a buffer counts bytes (tuple, str header ...).
LINE_OVERHEAD_BYTES = 120


class Span(NamedTuple):
    """A style applied to ``text[start:end]`` of a `LogLine`."""

    start: int
    end: int
    style: Style


class LogLine(NamedTuple):
    """One display line. Immutable; a NamedTuple because sources create hundreds of thousands per second."""

    text: str
    """Sanitized text: printable characters only, tabs expanded, possibly truncated with a marker."""
    spans: tuple[Span, ...] = ()
    """Styles from ANSI SGR codes (and the truncation marker)."""
    service: str | None = None
    """Compose service (or any source label) the line belongs to; shown as a coloured tag."""
    timestamp: str | None = None
    """RFC 3339 UTC timestamp with a 9-digit fraction, so that string order is time order."""
    stream: int = 1
    """1 stdout, 2 stderr, 0 a message from the dashboard itself (stream ended, engine unreachable ...)."""
    nbytes: int = 0
    """Size accounted for by `LogBuffer` (original size of the line plus a fixed overhead)."""
