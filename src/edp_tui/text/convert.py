"""Turning streams of outside text into sanitized `LogLine`s and `Text`s. No Textual here."""

from __future__ import annotations

from rich.text import Text

from edp_tui.text.logline import DEFAULT_MAX_CHARS, LINE_OVERHEAD_BYTES, LogLine
from edp_tui.text.sanitize import sanitize


def to_text(line: LogLine) -> Text:
    """A `rich.text.Text` for ``line``, built directly (never through markup parsing)."""
    text = Text(line.text, no_wrap=True, end="")
    for span in line.spans:
        text.stylize(span.style, span.start, span.end)
    return text


def safe_text(data: bytes | str, *, ansi: bool = False, max_chars: int = DEFAULT_MAX_CHARS) -> Text:
    """Outside text (an error message, a probe output) as a `Text` that is safe to put in any widget.

    Multi-line input keeps its line breaks; each line is sanitized on its own.
    """
    raw = data.decode("utf-8", "replace") if isinstance(data, bytes | bytearray) else data
    result = Text(end="")
    for i, piece in enumerate(raw.splitlines() or [""]):
        if i:
            result.append("\n")
        result.append_text(to_text(make_line(piece, ansi=ansi, max_chars=max_chars)))
    return result


def normalize_timestamp(ts: str) -> str:
    """RFC 3339 UTC timestamp with exactly 9 fraction digits, so string comparison is time comparison.

    Docker trims trailing zeros of the fraction ("...:05.1Z" and "...:05.123456789Z").
    """
    if len(ts) == 30 or not ts.endswith("Z"):  # "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" already, or not ours
        return ts
    dot = ts.find(".", 17)
    if dot < 0:
        return ts[:-1] + ".000000000Z"
    frac = ts[dot + 1 : -1]
    if len(frac) == 9:
        return ts
    return f"{ts[: dot + 1]}{frac[:9]:0<9}Z"


def make_line(
    raw: bytes | str,
    *,
    service: str | None = None,
    timestamp: str | None = None,
    stream: int = 1,
    ansi: bool = True,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> LogLine:
    """One sanitized `LogLine` from one line of outside text (without its line break)."""
    text, spans = sanitize(raw, ansi=ansi, max_chars=max_chars)
    return LogLine(
        text, spans, service, timestamp, stream, min(len(raw), len(text) * 4) + LINE_OVERHEAD_BYTES
    )


def message_line(text: str, *, service: str | None = None, timestamp: str | None = None) -> LogLine:
    """A line written by the dashboard itself (stream 0), e.g. "container removed"."""
    return make_line(text, service=service, timestamp=timestamp, stream=0, ansi=False)


class LineSplitter:
    """Turns a stream of chunks into complete lines (``\\n`` or ``\\r\\n`` terminated).

    A partial line is kept until its end arrives, but never more than ``max_partial`` characters: beyond
    that the piece is emitted as a line of its own, so a writer that never sends a newline cannot grow memory.
    """

    def __init__(self, max_partial: int = 1 << 20) -> None:
        self._partial = ""
        self._max_partial = max_partial

    def feed(self, chunk: bytes | str) -> list[str]:
        text = chunk.decode("utf-8", "replace") if isinstance(chunk, bytes | bytearray) else chunk
        if not text:
            return []
        data = self._partial + text
        lines = data.split("\n")
        self._partial = lines.pop()
        if len(self._partial) > self._max_partial:
            lines.append(self._partial)
            self._partial = ""
        return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]

    def flush(self) -> list[str]:
        """The partial line, if any (call at end of stream)."""
        rest, self._partial = self._partial, ""
        return [rest.removesuffix("\r")] if rest else []


def lines_from_text(
    text: bytes | str, *, service: str | None = None, stream: int = 1, ansi: bool = True
) -> list[LogLine]:
    """Sanitized lines of a complete chunk of text (e.g. a compute log); a trailing newline adds no line."""
    splitter = LineSplitter()
    pieces = splitter.feed(text) + splitter.flush()
    return [make_line(p, service=service, stream=stream, ansi=ansi) for p in pieces]
