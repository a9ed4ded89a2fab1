"""The bounded buffer of log lines every log view keeps (lines and bytes capped)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from edp_tui.text.logline import LogLine
from edp_tui.text.search import SearchQuery


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
