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

Naming: `printable()` only replaces control characters; it does NOT escape Rich markup. Its result is
meant for `rich.text.Text(...)`/`Text.append` (never parsed as markup) or a plain terminal line, never for an
API that parses markup (`notify` without ``markup=False``, `Static(markup=True)`, `Text.from_markup`).
"""

from __future__ import annotations

import re
from functools import lru_cache

from rich.color import Color
from rich.style import Style

from edp_tui.text.logline import DEFAULT_MAX_CHARS, TAB_SIZE, Span

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


def printable(text: str) -> str:
    """Every control character of ``text`` replaced by a visible symbol (no escape interpretation at all).

    Markup is NOT escaped: ``"[b]x[/b]"`` comes back unchanged. Hand the result to `rich.text.Text`, or
    print it.
    """
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
