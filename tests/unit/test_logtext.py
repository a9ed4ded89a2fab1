"""The sanitizer for outside text and the bounded log buffer."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.style import Style

from edp_tui.text import (
    DEFAULT_MAX_CHARS,
    LineSplitter,
    LogBuffer,
    SearchQuery,
    lines_from_text,
    make_line,
    message_line,
    normalize_timestamp,
    printable,
    safe_text,
    sanitize,
    to_text,
)

# Characters that must never reach the screen: C0/C1 controls (tabs are expanded), DEL, bidi controls,
# line separators, surrogates.
FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")

# Pieces that make interesting log lines: escape sequences of every family, Rich markup, controls.
PIECES = [
    "\x1b[31m",
    "\x1b[1;4;38;5;208m",
    "\x1b[38;2;10;20;30m",
    "\x1b[38:2::1:2:3m",
    "\x1b[0m",
    "\x1b[m",
    "\x1b[2J",
    "\x1b[H",
    "\x1b[10;20H",
    "\x1b[?1049h",
    "\x1b[>4;2m",
    "\x1b]0;evil title\x07",
    "\x1b]8;;http://x.example\x1b\\link\x1b]8;;\x1b\\",
    "\x1bP1$r0m\x1b\\",
    "\x1b",
    "\x1b[",
    "\x9b31m",
    "\x1bc",
    "\x1b7",
    "[bold]",
    "[/]",
    "[red]x[/red]",
    "[link=http://x]y[/link]",
    ":smile:",
    "\\[",
    "\t",
    "\r",
    "\n",
    "\x00",
    "\x07",
    "\x08",
    "\x7f",
    "\u202e",
    "\u2028",
    "\ufeff",
    "漢字",
    "e\u0301",
    "🙂",
]

line_text = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=12)), max_size=30).map("".join)


def assert_safe(text: str) -> None:
    assert FORBIDDEN.search(text) is None, repr(text)
    assert "\x1b" not in text


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_crash_and_never_leak_controls(data: bytes) -> None:
    text, spans = sanitize(data)
    assert_safe(text)
    for span in spans:
        assert 0 <= span.start < span.end <= len(text)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(line_text, st.booleans())
def test_markup_ansi_and_controls_never_leak(raw: str, ansi: bool) -> None:
    line = make_line(raw, ansi=ansi)
    assert_safe(line.text)
    rendered = to_text(line)
    # The Text carries exactly the sanitized characters: nothing was interpreted as markup.
    assert rendered.plain == line.text
    # Markup tags of the input survive literally (markup is data); an ESC before one may swallow its "[".
    if "\x1b" not in raw and "\x9b" not in raw:
        assert raw.count("[red]") <= line.text.count("[red]")
    # Rendering through a real console gives no escape other than the console's own styling.
    console = Console(width=200, color_system="truecolor", force_terminal=True, legacy_windows=False)
    with console.capture() as capture:
        console.print(rendered, end="", soft_wrap=True)
    out = capture.get()
    # The only escapes a console emits for a Text are SGR (styles) and OSC 8 links; we never create links.
    for seq in re.findall(r"\x1b(.[^a-zA-Z]*[a-zA-Z]?)", out):
        assert seq.startswith("[") and seq.endswith("m"), repr(seq)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_plain_printable_text_is_kept_verbatim(raw: str) -> None:
    printable = "".join(ch for ch in raw if FORBIDDEN.search(ch) is None and ch not in "\t\x1b")
    text, spans = sanitize(printable)
    assert text == printable
    assert spans == ()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a\x1b[2Jb", "a␛[2Jb"),  # erase: printable, never executed
        ("a\x1b[10;20Hb", "a␛[10;20Hb"),  # cursor movement: visible
        ("\x1b]0;title\x07x", "␛]0;title␇x"),  # OSC window title: visible
        ("bell\x07", "bell␇"),
        ("nul\x00", "nul␀"),
        ("c1\x9b", "c1\\x9b"),
        ("rtl\u202eabc", "rtl\\u202eabc"),
        ("cr\rlf", "cr␍lf"),
        ("[bold]x[/bold]", "[bold]x[/bold]"),
        ("a\tb", "a       b"),
        ("abcdefgh\tx", "abcdefgh        x"),
    ],
)
def test_examples(raw: str, expected: str) -> None:
    assert sanitize(raw)[0] == expected


def test_invalid_utf8_is_replaced() -> None:
    text, _ = sanitize(b"ok \xff\xfe \xc3\x28 end")
    assert text == "ok \ufffd\ufffd \ufffd( end"


def test_sgr_becomes_styles() -> None:
    text, spans = sanitize("\x1b[1;31merror\x1b[0m: \x1b[38;2;1;2;3mrgb\x1b[39m plain")
    assert text == "error: rgb plain"
    assert [(s.start, s.end) for s in spans] == [(0, 5), (7, 10)]
    assert spans[0].style.bold and spans[0].style.color is not None
    assert spans[0].style.color.number == 1
    assert spans[1].style.color is not None and spans[1].style.color.triplet == (1, 2, 3)


def test_sgr_can_be_stripped() -> None:
    assert sanitize("\x1b[31mred\x1b[0m", ansi=False) == ("red", ())


def test_style_spans_are_applied_without_markup_parsing() -> None:
    line = make_line("\x1b[32m[red]green[/red]\x1b[0m")
    text = to_text(line)
    assert text.plain == "[red]green[/red]"
    assert text.spans[0].style == Style(color="color(2)")


def test_one_megabyte_line_is_truncated_with_marker() -> None:
    raw = ("x" * 999 + "\x1b[31m") * 1000  # ~1 MB with escape codes
    text, spans = sanitize(raw)
    assert len(text) < DEFAULT_MAX_CHARS + 80
    assert "more characters not shown" in text
    assert spans[-1].end == len(text)
    assert_safe(text)
    plain = b"y" * (1 << 20)
    line = make_line(plain)
    assert line.text.startswith("y" * DEFAULT_MAX_CHARS)
    assert f"{(1 << 20) - DEFAULT_MAX_CHARS:,} more characters" in line.text
    assert line.nbytes < 64 * 1024  # accounted by what is kept, not by the input


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PIECES), st.integers(min_value=1, max_value=1 << 20))
def test_huge_lines_of_any_piece_never_crash(piece: str, size: int) -> None:
    raw = (piece * (size // len(piece) + 1))[:size]
    text, _ = sanitize(raw)
    assert_safe(text)
    assert len(text) <= DEFAULT_MAX_CHARS + 80


def test_exact_limit_is_not_marked_truncated() -> None:
    raw = "\x1b[31m" + "a" * 100 + "\x1b[0m"
    assert sanitize(raw, max_chars=100)[0] == "a" * 100


def test_visible_and_safe_text() -> None:
    assert printable("a\x1bb\x00") == "a␛b␀"
    text = safe_text("Traceback:\n  [bold]boom\x1b[31m\n")
    assert text.plain == "Traceback:\n  [bold]boom"


def test_normalize_timestamp_orders_as_time() -> None:
    a = normalize_timestamp("2024-05-01T10:00:05.1Z")
    b = normalize_timestamp("2024-05-01T10:00:05.123456789Z")
    c = normalize_timestamp("2024-05-01T10:00:05Z")
    assert a == "2024-05-01T10:00:05.100000000Z"
    assert c < a < b


def test_line_splitter_handles_partial_lines_and_crlf() -> None:
    sp = LineSplitter(max_partial=10)
    assert sp.feed(b"one\r\ntw") == ["one"]
    assert sp.feed("o\nthree") == ["two"]
    assert sp.flush() == ["three"]
    assert sp.feed("x" * 25) == ["x" * 25]  # a writer without newlines cannot grow memory
    assert sp.flush() == []


def test_lines_from_text_and_message_line() -> None:
    lines = lines_from_text("a\nb\x1b[2J\n", service="user-code")
    assert [ln.text for ln in lines] == ["a", "b␛[2J"]
    assert all(ln.service == "user-code" for ln in lines)
    msg = message_line("container removed [x]", service="s")
    assert msg.stream == 0 and msg.text == "container removed [x]"


# --- LogBuffer ------------------------------------------------------------------------------------


def test_buffer_respects_line_cap_and_counts_drops() -> None:
    buf = LogBuffer(max_lines=100, max_bytes=10**9)
    for i in range(1000):
        buf.append(make_line(f"line {i}"))
    assert len(buf) == 100
    assert buf.dropped_lines == 900
    assert buf[0].text == "line 900" and buf[-1].text == "line 999"
    assert buf.first_seq == 900 and buf.next_seq == 1000
    assert buf.get(950).text == "line 950"
    with pytest.raises(IndexError):
        buf.get(899)


def test_buffer_respects_byte_cap() -> None:
    buf = LogBuffer(max_lines=10**6, max_bytes=100_000)
    for i in range(10_000):
        buf.append(make_line(f"{i:08d}" + "z" * 200))
    assert buf.nbytes <= 100_000
    assert buf.dropped_lines == 10_000 - len(buf)
    assert buf[-1].text.startswith("00009999")
    assert sum(line.nbytes for line in buf) == buf.nbytes


@settings(max_examples=100)
@given(
    st.integers(min_value=1, max_value=50),
    st.integers(min_value=200, max_value=5000),
    st.lists(st.integers(min_value=0, max_value=800), max_size=300),
)
def test_buffer_invariants(max_lines: int, max_bytes: int, sizes: list[int]) -> None:
    buf = LogBuffer(max_lines=max_lines, max_bytes=max_bytes)
    for i, size in enumerate(sizes):
        buf.append(make_line(f"{i}:" + "a" * size))
        assert len(buf) <= max_lines
        assert buf.nbytes <= max_bytes or len(buf) == 1
        assert buf[-1].text.startswith(f"{i}:")
    assert buf.dropped_lines + len(buf) == len(sizes)
    assert [ln.text.split(":")[0] for ln in buf] == [str(i) for i in range(buf.first_seq, buf.next_seq)]


def test_buffer_search_helpers() -> None:
    buf = LogBuffer(max_lines=10)
    for i in range(20):
        buf.append(make_line(f"{'ERROR' if i % 3 == 0 else 'info'} {i}"))
    q = SearchQuery("error")
    assert buf.count_matches(q) == 3  # 12, 15, 18 are kept
    assert buf.find(q, buf.first_seq) == 12
    assert buf.find(q, 13) == 15
    assert buf.find(q, 19, forward=False) == 18
    assert buf.find(q, 11, forward=False) is None
    assert buf.find(SearchQuery("Error"), buf.first_seq) is None  # smart case: upper case is exact
    buf.clear()
    assert len(buf) == 0 and buf.find(q, 0) is None


def test_search_query_is_literal() -> None:
    q = SearchQuery("[a.b]")
    assert q.matches("x [A.B] y")
    assert not q.matches("x [aXb] y")
    assert list(q.spans("[a.b][a.b]")) == [(0, 5), (5, 10)]


def test_combining_and_wide_characters_survive() -> None:
    text, _ = sanitize("e\u0301 漢字 🙂")
    assert unicodedata.normalize("NFC", text) == "é 漢字 🙂"
