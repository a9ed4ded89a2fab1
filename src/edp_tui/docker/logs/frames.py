"""The engine's log stream: HTTP chunks of multiplexed frames (8-byte header + payload), read in large blocks.

docker-py's own ``logs(stream=True)`` reads each frame with two small reads through urllib3; reading the
response in large blocks and parsing frames from a buffer is about twice the rate (see bench/logs_flood.py).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

import urllib3.exceptions

from edp_tui.text import (
    DEFAULT_MAX_CHARS,
    LINE_OVERHEAD_BYTES,
    LineSplitter,
    LogLine,
    make_line,
    needs_sanitizing,
    normalize_timestamp,
)

_HEADER = struct.Struct(">BxxxL")
_CHUNK = 64 * 1024


class FrameParser:
    """Bytes of a logs response -> `LogLine`s.

    ``multiplexed`` streams (containers without a TTY) are frames ``[stream, 0, 0, 0, size (4 bytes)]``
    followed by the payload; TTY containers send plain text. With ``timestamps=1`` every message starts
    with an
    RFC 3339 timestamp and a space. Lines longer than the engine's 16 KiB message size arrive as several
    messages, all but the last without a trailing newline: they are joined here (keeping only what is shown).
    """

    def __init__(self, service: str | None, *, multiplexed: bool = True, max_chars: int = DEFAULT_MAX_CHARS):
        self.service = service
        self.multiplexed = multiplexed
        self.max_chars = max_chars
        self._rest = b""
        self._partial: dict[int, tuple[str, bytearray, int]] = {}  # stream -> (timestamp, kept bytes, total)
        self._splitter = LineSplitter()
        self.last_timestamp: str | None = None

    def feed(self, chunk: bytes) -> list[LogLine]:
        if not self.multiplexed:
            return self._tty_lines(self._splitter.feed(chunk))
        # One bytes object per read (the rest of the previous one is at most a frame): slicing payloads out of
        # it copies each once.
        data = self._rest + chunk if self._rest else bytes(chunk)
        out: list[LogLine] = []
        pos = 0
        end = len(data)
        unpack = _HEADER.unpack_from
        message = self._message
        while end - pos >= 8:
            stream, size = unpack(data, pos)
            nxt = pos + 8 + size
            if nxt > end:
                break
            line = message(stream, data[pos + 8 : nxt])
            pos = nxt
            if line is not None:
                out.append(line)
        self._rest = data[pos:]
        return out

    def _message(self, stream: int, payload: bytes) -> LogLine | None:
        sp = payload.find(b" ", 0, 40)
        ts: str | None = None
        content = payload
        if 19 < sp and payload[sp - 1] == 90:  # "...Z "
            stamp = payload[:sp].decode("ascii", "replace")
            # A 9-digit fraction already (the common case) needs no work.
            ts = stamp if len(stamp) == 30 else normalize_timestamp(stamp)
            content = payload[sp + 1 :]
        if not self._partial and content.endswith(b"\n"):
            # Fast path (nearly every line): complete, and plain text once decoded.
            body = content[:-2] if content.endswith(b"\r\n") else content[:-1]
            text = body.decode("utf-8", "replace")
            if ts is not None:
                self.last_timestamp = ts
            if len(text) <= self.max_chars and needs_sanitizing(text) is None:
                return LogLine(
                    text,
                    (),
                    self.service,
                    ts,
                    stream if 0 < stream < 3 else 1,
                    len(body) + LINE_OVERHEAD_BYTES,
                )
            return make_line(
                body,
                service=self.service,
                timestamp=ts,
                stream=stream if 0 < stream < 3 else 1,
                max_chars=self.max_chars,
            )
        pending = self._partial.pop(stream, None)
        if pending is not None:
            # Continuation of a long line: the first piece's timestamp is the line's.
            ts0, kept, total = pending
            ts = ts0 or ts
            kept += content[: max(0, self.max_chars * 4 - len(kept))]
            total += len(content)
        else:
            kept, total = bytearray(content), len(content)
        if not content.endswith(b"\n"):
            self._partial[stream] = (ts or "", kept, total)
            return None
        whole = bytes(kept) if pending is not None else content
        whole = whole[:-2] if whole.endswith(b"\r\n") else whole[:-1] if whole.endswith(b"\n") else whole
        if ts is not None:
            self.last_timestamp = ts
        return make_line(
            whole,
            service=self.service,
            timestamp=ts,
            stream=stream if stream in (1, 2) else 1,
            max_chars=self.max_chars,
        )

    def flush(self) -> list[LogLine]:
        """Whatever partial lines remain at the end of a stream."""
        out: list[LogLine] = []
        if not self.multiplexed:
            out = self._tty_lines(self._splitter.flush())
        for stream, (ts, kept, _total) in sorted(self._partial.items()):
            out.append(make_line(bytes(kept), service=self.service, timestamp=ts or None, stream=stream))
        self._partial.clear()
        return out

    def _tty_lines(self, pieces: list[str]) -> list[LogLine]:
        # A TTY container's stream is plain text: one "timestamp text" per line, no frames.
        out = []
        for piece in pieces:
            line = self._message(1, piece.encode() + b"\n")
            if line is not None:
                out.append(line)
        return out


# --- HTTP body ----------------------------------------------------------------------------------------------


class ChunkedDecoder:
    """Incremental decoder of HTTP/1.1 chunked transfer encoding.

    The engine flushes every log message as its own HTTP chunk; urllib3 decodes them one small read at a time,
    which costs more than parsing the log frames. Decoding large reads here keeps it to a few operations per
    chunk.
    """

    def __init__(self) -> None:
        self._carry = b""  # an incomplete chunk-size line
        self._left = 0  # payload bytes still due in the current chunk
        self._skip = 0  # CRLF bytes still due after a chunk's payload
        self.done = False

    def feed(self, data: bytes) -> bytes:
        if self._carry:
            data, self._carry = self._carry + data, b""
        out: list[bytes] = []
        pos, n = 0, len(data)
        while pos < n and not self.done:
            if self._left:
                take = min(self._left, n - pos)
                out.append(data[pos : pos + take])
                pos += take
                self._left -= take
                if not self._left:
                    self._skip = 2
            elif self._skip:
                take = min(self._skip, n - pos)
                pos += take
                self._skip -= take
            else:
                eol = data.find(b"\r\n", pos)
                if eol < 0:
                    self._carry = data[pos:]
                    break
                size_field = data[pos:eol].split(b";", 1)[0].strip()
                pos = eol + 2
                try:
                    size = int(size_field, 16)
                except ValueError as exc:
                    raise urllib3.exceptions.ProtocolError(f"bad chunk size {size_field[:20]!r}") from exc
                if size == 0:
                    self.done = True
                else:
                    self._left = size
        return b"".join(out)


def body_blocks(response: Any, size: int = 256 * 1024) -> Iterator[bytes]:
    """The body of a streamed requests/urllib3 response in large blocks, as soon as they arrive."""
    raw = response.raw
    reader = getattr(getattr(raw, "_fp", None), "fp", None)
    if reader is None or not hasattr(reader, "read1"):
        # Not a plain (TLS) socket underneath, e.g. SSH: let urllib3 do it.
        yield from (raw.read_chunked(_CHUNK, decode_content=False) if raw.chunked else raw.stream(_CHUNK))
        return
    # http.client's buffered socket reader: read1 returns what is buffered or what one recv() gives.
    decoder = ChunkedDecoder() if raw.chunked else None
    while True:
        data = reader.read1(size)
        if not data:
            return
        if decoder is None:
            yield data
            continue
        payload = decoder.feed(data)
        if payload:
            yield payload
        if decoder.done:
            return
