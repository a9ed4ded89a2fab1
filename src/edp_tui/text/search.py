"""Literal, smart-case search over log lines."""

from __future__ import annotations

import re
from collections.abc import Iterator


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
