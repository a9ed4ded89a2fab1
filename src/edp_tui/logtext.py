"""Text that comes from outside (container logs, compute logs, error messages) made safe to display.

Nothing here imports Textual: sources build `LogLine`s in their own threads and widgets only render them.

Guarantees of `sanitize()` / `make_line()`:
- invalid UTF-8 is replaced (U+FFFD), lone surrogates too;
- ANSI SGR colour/attribute codes become Rich `Style`s (or are dropped with ``ansi=False``);
- every other escape sequence (cursor movement, erase, OSC titles/hyperlinks, DCS ...) and every other control
  character is made visible (ESC -> "␛", BEL -> "␇", C1 controls and bidi overrides -> "\\x9b" / "\\u202e")
  so nothing reaches the terminal as a command;
- the text is never parsed as Rich markup: it is plain data carried in a `rich.text.Text` built directly;
- tabs are expanded to 8-column stops;
- very long lines are cut at ``max_chars`` with a visible marker, in time linear in the input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import NamedTuple

from rich.color import Color
from rich.style import Style
from rich.text import Text

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


# --- control characters ---------------------------------------------------------------------------

# Anything that may need more work than a plain copy: C0/C1 controls (tab included), DEL, line/paragraph
# separators, bidi embedding/override/isolate controls (they reorder what is shown), lone surrogates.
_SUSPECT = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


# Match object (truthy) when a str needs `sanitize`'s slow path; None when it is plain printable text.
needs_sanitizing = _SUSPECT.search


def _visible_table() -> dict[int, str]:
    table: dict[int, str] = {c: chr(0x2400 + c) for c in range(0x20)}  # ␀ ... ␟ (control pictures)
    table[0x7F] = "\u2421"  # ␡
    for c in range(0x80, 0xA0):
        table[c] = f"\\x{c:02x}"
    for c in (0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A)):
        table[c] = f"\\u{c:04x}"
    for c in range(0xD800, 0xE000):
        table[c] = "\ufffd"
    return table


_VISIBLE = _visible_table()

# One token per thing that is not plain text. Order matters: complete sequences before a lone ESC.
_TOKEN = re.compile(
    r"(?P<csi>\x1b\[[0-?]*[ -/]*[@-~])"  # CSI ... final byte (SGR when the final byte is "m")
    r"|(?P<str>\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?)"  # OSC / DCS / SOS / PM / APC string
    r"|(?P<esc>\x1b[ -/]*[0-~]?)"  # any other escape, or a lone ESC
    r"|(?P<tab>\t)"
    r"|(?P<ctl>[\x00-\x08\x0a-\x1a\x1c-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]+)"
)


def visible(text: str) -> str:
    """Every control character of ``text`` replaced by a visible symbol (no escape interpretation at all)."""
    return text.translate(_VISIBLE)


# --- ANSI SGR -------------------------------------------------------------------------------------

# SGR state: (fg, bg, bold, dim, italic, underline, blink, reverse, strike); colours are Color or None.
_SgrState = tuple[Color | None, Color | None, bool, bool, bool, bool, bool, bool, bool]
_RESET: _SgrState = (None, None, False, False, False, False, False, False, False)

_ATTR_ON = {1: 2, 2: 3, 3: 4, 4: 5, 5: 6, 6: 6, 7: 7, 9: 8, 21: 5}
_ATTR_OFF = {22: (2, 3), 23: (4,), 24: (5,), 25: (6,), 27: (7,), 29: (8,)}


@lru_cache(maxsize=4096)
def _style_for(state: _SgrState) -> Style | None:
    if state == _RESET:
        return None
    fg, bg, bold, dim, italic, underline, blink, reverse, strike = state
    return Style(
        color=fg,
        bgcolor=bg,
        bold=bold or None,
        dim=dim or None,
        italic=italic or None,
        underline=underline or None,
        blink=blink or None,
        reverse=reverse or None,
        strike=strike or None,
    )


def _extended_colour(codes: list[int], i: int) -> tuple[Color | None, int]:
    """Parse the arguments of 38/48 starting at ``codes[i]`` (the 5 or 2). Returns (colour, next index)."""
    if i < len(codes) and codes[i] == 5 and i + 1 < len(codes):
        n = codes[i + 1]
        return (Color.from_ansi(n) if 0 <= n <= 255 else None), i + 2
    if i < len(codes) and codes[i] == 2 and i + 3 < len(codes):
        r, g, b = codes[i + 1 : i + 4]
        if all(0 <= v <= 255 for v in (r, g, b)):
            return Color.from_rgb(r, g, b), i + 4
        return None, i + 4
    return None, len(codes)


def _apply_sgr(state: _SgrState, params: str) -> _SgrState:
    """The SGR state after ``ESC [ params m``. Unknown or malformed codes are ignored."""
    codes: list[int] = []
    # "38:2::255:0:0" (colon sub-parameters, with an optional colour-space id) and "38;2;255;0;0" both occur.
    for part in params.split(";") if params else ["0"]:
        if ":" in part:
            sub = [int(p) if p.isdigit() else 0 for p in part.split(":")]
            if len(sub) >= 6 and sub[1] == 2:  # 38:2:<space>:r:g:b
                sub = [sub[0], 2, *sub[3:6]]
            codes.extend(sub)
        else:
            codes.append(int(part) if part.isdigit() else 0)
    s = list(state)
    i = 0
    while i < len(codes):
        c = codes[i]
        i += 1
        if c == 0:
            s = list(_RESET)
        elif c in _ATTR_ON:
            s[_ATTR_ON[c]] = True
        elif c in _ATTR_OFF:
            for k in _ATTR_OFF[c]:
                s[k] = False
        elif 30 <= c <= 37:
            s[0] = Color.from_ansi(c - 30)
        elif 90 <= c <= 97:
            s[0] = Color.from_ansi(c - 90 + 8)
        elif 40 <= c <= 47:
            s[1] = Color.from_ansi(c - 40)
        elif 100 <= c <= 107:
            s[1] = Color.from_ansi(c - 100 + 8)
        elif c == 39:
            s[0] = None
        elif c == 49:
            s[1] = None
        elif c in (38, 48):
            colour, i = _extended_colour(codes, i)
            if colour is not None:
                s[0 if c == 38 else 1] = colour
    return tuple(s)  # type: ignore[return-value]


# --- sanitizer ------------------------------------------------------------------------------------

_MARKER_STYLE = Style(dim=True, italic=True)


def _truncation_marker(cut: int) -> str:
    return f" … [{cut:,} more characters not shown]"


def sanitize(
    data: bytes | str, *, ansi: bool = True, max_chars: int = DEFAULT_MAX_CHARS
) -> tuple[str, tuple[Span, ...]]:
    """Safe display text and its styles for one line of outside text (see the module docstring).

    ``ansi=True`` turns SGR codes into styles, ``False`` drops them. Either way no escape sequence survives.
    Line breaks inside ``data`` are made visible (␊): split into lines first (see `LineSplitter`).
    """
    text = data.decode("utf-8", "replace") if isinstance(data, bytes | bytearray) else data
    total = len(text)
    # Escape sequences can only shrink the text, and a tab grows it at most 8 times: bound the work done on
    # megabyte lines by looking at a prefix only.
    if total > max_chars * 2:
        text = text[: max_chars * 2]
    if _SUSPECT.search(text) is None:
        if len(text) <= max_chars and total == len(text):
            return text, ()
        shown = text[:max_chars]
        marker = _truncation_marker(total - len(shown))
        return shown + marker, (Span(len(shown), len(shown) + len(marker), _MARKER_STYLE),)
    return _sanitize_slow(text, total, ansi, max_chars)


def _sanitize_slow(text: str, total: int, ansi: bool, max_chars: int) -> tuple[str, tuple[Span, ...]]:
    out: list[str] = []
    spans: list[Span] = []
    length = 0  # characters emitted so far
    state = _RESET
    style: Style | None = None
    style_start = 0
    pos = 0  # consumed characters of the input

    def emit(piece: str) -> None:
        nonlocal length
        out.append(piece)
        length += len(piece)

    for m in _TOKEN.finditer(text):
        if length > max_chars:
            break
        if m.start() > pos:
            emit(text[pos : m.start()])
        pos = m.end()
        kind = m.lastgroup
        token = m.group()
        if kind == "csi" and token.endswith("m") and token[2:3] not in ("<", "=", ">", "?"):
            if not ansi:
                continue
            new_state = _apply_sgr(state, token[2:-1])
            new_style = _style_for(new_state)
            if new_style != style:
                if style is not None and length > style_start:
                    spans.append(Span(style_start, length, style))
                style, style_start = new_style, length
            state = new_state
        elif kind == "tab":
            emit(" " * (TAB_SIZE - length % TAB_SIZE))
        else:
            emit(token.translate(_VISIBLE))
    else:
        if pos < len(text):
            emit(text[pos:])
        pos = len(text)
    if style is not None and length > style_start:
        spans.append(Span(style_start, min(length, max_chars), style))
    result = "".join(out)
    if length > max_chars or pos < total:
        result = result[:max_chars]
        # What was not shown, counted in input characters (escape codes included).
        cut = max(total - pos, 0) + max(length - max_chars, 0)
        marker = _truncation_marker(cut)
        spans = [Span(s.start, min(s.end, max_chars), s.style) for s in spans if s.start < max_chars]
        spans.append(Span(len(result), len(result) + len(marker), _MARKER_STYLE))
        result += marker
    return result, tuple(spans)


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


# --- search ---------------------------------------------------------------------------------------


class SearchQuery:
    """A literal search term with smart case: all lower case matches any case, otherwise case matters.

    Special characters are literal (the term is escaped), so a user's "[error]" finds "[error]".
    """

    def __init__(self, term: str) -> None:
        self.term = term
        flags = 0 if any(ch.isupper() for ch in term) else re.IGNORECASE
        self._re = re.compile(re.escape(term), flags)

    def __bool__(self) -> bool:
        return bool(self.term)

    def matches(self, text: str) -> bool:
        return self._re.search(text) is not None

    def spans(self, text: str) -> Iterator[tuple[int, int]]:
        """(start, end) of every non-overlapping occurrence in ``text``."""
        for m in self._re.finditer(text):
            if m.end() > m.start():
                yield m.start(), m.end()


# --- bounded buffer -------------------------------------------------------------------------------


class LogBuffer:
    """The newest lines, bounded in count and in bytes. O(1) append, evict and index.

    Lines are addressed by a sequence number that keeps increasing across evictions: ``first_seq`` is the
    oldest line kept, ``next_seq`` the number the next line will get.
    A ring of ``max_lines`` slots holds them.
    """

    def __init__(self, max_lines: int = 10_000, max_bytes: int = 8 * 1024 * 1024) -> None:
        if max_lines < 1 or max_bytes < 1:
            raise ValueError("LogBuffer needs max_lines >= 1 and max_bytes >= 1")
        self.max_lines = max_lines
        self.max_bytes = max_bytes
        self._ring: list[LogLine | None] = [None] * max_lines
        self._first = 0  # seq of the oldest line kept
        self._next = 0  # seq of the next line
        self._bytes = 0
        self.dropped_lines = 0
        """Lines evicted to respect the bounds since creation (or the last `clear`)."""
        self.dropped_bytes = 0

    def __len__(self) -> int:
        return self._next - self._first

    @property
    def first_seq(self) -> int:
        return self._first

    @property
    def next_seq(self) -> int:
        return self._next

    @property
    def nbytes(self) -> int:
        """Bytes accounted for the lines kept (at most ``max_bytes`` unless one line is larger)."""
        return self._bytes

    def _evict_one(self) -> LogLine:
        slot = self._first % self.max_lines
        line = self._ring[slot]
        assert line is not None
        self._ring[slot] = None
        self._first += 1
        self._bytes -= line.nbytes
        self.dropped_lines += 1
        self.dropped_bytes += line.nbytes
        return line

    def append(self, line: LogLine) -> int:
        """Add ``line``; returns how many old lines were evicted to make room."""
        evicted = 0
        if self._next - self._first == self.max_lines:
            self._evict_one()
            evicted += 1
        self._ring[self._next % self.max_lines] = line
        self._next += 1
        self._bytes += line.nbytes
        # Keep at least the newest line even when it alone exceeds max_bytes (it is cut at sanitize time).
        while self._bytes > self.max_bytes and self._next - self._first > 1:
            self._evict_one()
            evicted += 1
        return evicted

    def extend(self, lines: Iterable[LogLine]) -> int:
        """Add ``lines`` in order; returns how many lines were evicted."""
        evicted = 0
        append = self.append
        for line in lines:
            evicted += append(line)
        return evicted

    def get(self, seq: int) -> LogLine:
        """The line with sequence number ``seq`` (IndexError when evicted or not yet written)."""
        if not self._first <= seq < self._next:
            raise IndexError(seq)
        line = self._ring[seq % self.max_lines]
        assert line is not None
        return line

    def __getitem__(self, index: int) -> LogLine:
        """The ``index``-th line kept (0 = oldest, -1 = newest)."""
        n = self._next - self._first
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(index)
        return self.get(self._first + index)

    def __iter__(self) -> Iterator[LogLine]:
        return self.iter_from(self._first)

    def iter_from(self, seq: int) -> Iterator[LogLine]:
        for s in range(max(seq, self._first), self._next):
            yield self.get(s)

    def clear(self) -> None:
        self._ring = [None] * self.max_lines
        self._first = self._next
        self._bytes = 0
        self.dropped_lines = 0
        self.dropped_bytes = 0

    def find(self, query: SearchQuery, start_seq: int, *, forward: bool = True) -> int | None:
        """Seq of the first line matching ``query`` from ``start_seq`` (inclusive) in the given direction."""
        if forward:
            rng = range(max(start_seq, self._first), self._next)
        else:
            rng = range(min(start_seq, self._next - 1), self._first - 1, -1)
        for seq in rng:
            if query.matches(self.get(seq).text):
                return seq
        return None

    def count_matches(self, query: SearchQuery) -> int:
        """Number of lines kept that match ``query``."""
        return sum(1 for line in self if query.matches(line.text))
