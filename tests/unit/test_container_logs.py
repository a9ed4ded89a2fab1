"""Parsing the engine's log stream (frames, timestamps, split long lines) without an engine."""

from __future__ import annotations

import struct

import pytest
import urllib3.exceptions
from hypothesis import given, settings
from hypothesis import strategies as st

from edp_tui.docker.logs import BACKLOGS, ChunkedDecoder, FrameParser, backlog_by_key
from edp_tui.docker.logs.follower import to_unix

TS = "2024-05-01T10:00:00.123456789Z"


def frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


def test_frames_become_tagged_lines() -> None:
    data = frame(1, f"{TS} hello \x1b[31mred\x1b[0m\n".encode()) + frame(
        2, b"2024-05-01T10:00:01.5Z boom [bold]x\n"
    )
    lines = FrameParser("web").feed(data)
    assert [ln.text for ln in lines] == ["hello red", "boom [bold]x"]
    assert [ln.stream for ln in lines] == [1, 2]
    assert lines[0].service == "web"
    assert lines[0].timestamp == TS
    assert lines[1].timestamp == "2024-05-01T10:00:01.500000000Z"
    assert lines[0].spans and lines[0].spans[0].start == 6


@settings(max_examples=100)
@given(st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=30))
def test_frames_split_anywhere_across_chunks(cuts: list[int]) -> None:
    payloads = [f"{TS} line {i} {'x' * i}\n".encode() for i in range(40)]
    data = b"".join(frame(1 + i % 2, p) for i, p in enumerate(payloads))
    parser = FrameParser(None)
    out = []
    pos = 0
    for cut in cuts:
        out += parser.feed(data[pos : pos + cut])
        pos += cut
    out += parser.feed(data[pos:])
    out += parser.flush()
    assert [ln.text for ln in out] == [f"line {i} {'x' * i}" for i in range(40)]


def test_long_line_split_by_the_engine_is_joined_and_bounded() -> None:
    # The engine cuts lines at 16 KiB: every piece has its own timestamp, only the last ends with "\n".
    pieces = [b"a" * 16384, b"b" * 16384, b"c" * 100 + b"\n"]
    ts = [TS, "2024-05-01T10:00:00.2Z", "2024-05-01T10:00:00.3Z"]
    data = b"".join(frame(1, t.encode() + b" " + p) for t, p in zip(ts, pieces, strict=True))
    parser = FrameParser("svc", max_chars=1000)
    lines = parser.feed(data)
    assert len(lines) == 1
    line = lines[0]
    assert line.timestamp == TS  # the line's time is its first piece's
    assert line.text.startswith("a" * 1000)
    assert "more characters not shown" in line.text
    assert line.nbytes < 10_000


def test_partial_line_at_end_of_stream_is_flushed() -> None:
    parser = FrameParser("svc")
    assert parser.feed(frame(1, f"{TS} no newline".encode())) == []
    assert [ln.text for ln in parser.flush()] == ["no newline"]


def test_tty_stream_is_plain_text() -> None:
    parser = FrameParser("tty", multiplexed=False)
    lines = parser.feed(f"{TS} one\r\n{TS} tw".encode())
    lines += parser.feed(b"o\r\n")
    assert [(ln.text, ln.timestamp) for ln in lines] == [("one", TS), ("two", TS)]


def test_lines_without_timestamp_are_kept() -> None:
    lines = FrameParser(None).feed(frame(1, b"plain line\n"))
    assert [(ln.text, ln.timestamp) for ln in lines] == [("plain line", None)]


def test_to_unix_keeps_nanoseconds() -> None:
    assert to_unix("1970-01-01T00:00:10.000000005Z") == "10.000000005"
    assert to_unix("2024-05-01T10:00:00.123456789Z") == "1714557600.123456789"


def test_backlog_choices() -> None:
    assert backlog_by_key("5m").since_seconds == 300
    assert backlog_by_key("all").tail is None and backlog_by_key("all").since_seconds is None
    assert len({b.key for b in BACKLOGS}) == len(BACKLOGS)
    with pytest.raises(ValueError, match="choose one of"):
        backlog_by_key("yesterday")


def chunked(payloads: list[bytes]) -> bytes:
    return b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in payloads) + b"0\r\n\r\n"


@settings(max_examples=150)
@given(
    st.lists(st.binary(min_size=1, max_size=300), max_size=20),
    st.lists(st.integers(min_value=1, max_value=64), min_size=1, max_size=40),
)
def test_chunked_decoder_reassembles_any_split(payloads: list[bytes], cuts: list[int]) -> None:
    data = chunked(payloads)
    decoder = ChunkedDecoder()
    out = b""
    pos = 0
    for cut in cuts * (len(data) // max(1, sum(cuts)) + 1):
        if pos >= len(data):
            break
        out += decoder.feed(data[pos : pos + cut])
        pos += cut
    out += decoder.feed(data[pos:])
    assert out == b"".join(payloads)
    assert decoder.done


def test_chunked_decoder_rejects_garbage() -> None:
    with pytest.raises(urllib3.exceptions.ProtocolError, match="bad chunk size"):
        ChunkedDecoder().feed(b"zz\r\nabc\r\n")
