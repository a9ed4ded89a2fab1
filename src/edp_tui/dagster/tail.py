"""Tailing one compute log (a step's stdout and stderr) by byte cursor: one routine for the CLI and the panel.

``capturedLogs`` answers the bytes after a ``"<stdout bytes>:<stderr bytes>"`` cursor; this keeps the cursor
and the partial last line of each stream, so a caller only ever sees complete lines (and the rest on `flush`).
A live tail reads small chunks often; a finished log is read with `read_all`: large chunks back to back (an
8 MB log in a few calls instead of one 64 KiB chunk per stream per poll).
"""

from __future__ import annotations

from dataclasses import dataclass

from edp_tui.dagster.api import DagsterApi
from edp_tui.dagster.client import LOG_CHUNK_BYTES
from edp_tui.dagster.models import LogKey
from edp_tui.text import LineSplitter

STREAMS = ("stdout", "stderr")
# Bytes per stream per call when catching up on a finished log (the webserver reads the file in one go).
BULK_CHUNK_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class TailRead:
    """What one read brought: complete lines as (stream, text), and whether any new bytes came."""

    lines: tuple[tuple[str, str], ...]
    fresh: bool


class ComputeLogTail:
    def __init__(self, key: LogKey) -> None:
        self.key = key
        self.cursor: str | None = None
        self._splitters = {stream: LineSplitter() for stream in STREAMS}

    async def read(self, client: DagsterApi, limit: int = LOG_CHUNK_BYTES) -> TailRead:
        """One ``capturedLogs`` call from the cursor on, at most ``limit`` bytes per stream."""
        chunk = await client.captured_logs(self.key, self.cursor, limit)
        fresh = chunk.cursor != self.cursor and bool(chunk.stdout or chunk.stderr)
        self.cursor = chunk.cursor
        lines: list[tuple[str, str]] = []
        for stream, text in (("stdout", chunk.stdout), ("stderr", chunk.stderr)):
            lines += [(stream, piece) for piece in self._splitters[stream].feed(text)]
        return TailRead(tuple(lines), fresh)

    async def read_all(self, client: DagsterApi, limit: int = BULK_CHUNK_BYTES) -> TailRead:
        """Read until nothing new comes (a finished log, or catching up after a pause)."""
        lines: list[tuple[str, str]] = []
        fresh = False
        while True:
            got = await self.read(client, limit)
            lines += got.lines
            if not got.fresh:
                return TailRead(tuple(lines), fresh)
            fresh = True

    def flush(self) -> list[tuple[str, str]]:
        """The partial last line of each stream (call once the log is complete)."""
        return [(stream, piece) for stream in STREAMS for piece in self._splitters[stream].flush()]
