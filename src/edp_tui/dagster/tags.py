"""The one parser of run tags, for the CLI's repeated ``--tag k=v`` and the launch dialog's one-line field.

Values are free text. In a one-line list, a comma starts a new pair only when a ``key=`` follows it (a key
of letters, digits and ``-_./``, as Dagster's own tags are), so a value may itself hold commas:
``a=1,2, b=x`` is ``{"a": "1,2", "b": "x"}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_KEY = r"[A-Za-z0-9_.\-/]+"
# A comma followed by optional space and "key=": the start of the next pair.
_PAIR_START = re.compile(rf",\s*(?={_KEY}\s*=)")


def parse_tag(raw: str) -> tuple[str, str]:
    """One ``key=value`` pair (value kept as written, key stripped); ValueError saying what is wrong."""
    key, sep, value = raw.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ValueError(f"tag {raw.strip()!r} is not key=value")
    return key, value


def parse_tags(pairs: Iterable[str]) -> dict[str, str]:
    """Several pairs (the CLI's ``--tag`` options); a later key wins."""
    return dict(parse_tag(raw) for raw in pairs)


def parse_tag_list(text: str) -> dict[str, str]:
    """A one-line list ``k=v, k2=v2`` (the launch dialog); values may hold commas; outer spaces are cut."""
    if not text.strip():
        return {}
    tags: dict[str, str] = {}
    for part in _PAIR_START.split(text.strip().strip(",")):
        if not part.strip():
            continue
        key, value = parse_tag(part)
        tags[key] = value.strip()
    return tags
