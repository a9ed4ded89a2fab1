"""The one parser of run tags, for the CLI's repeated ``--tag k=v`` and the launch dialog's one-line field.

Values are free text. In a one-line list, a comma starts a new pair only when a ``key=`` follows it (a key
of letters, digits and ``-_./``, as Dagster's own tags are), so a value may itself hold commas:
``a=1,2, b=x`` is ``{"a": "1,2", "b": "x"}``.

Keys under a reserved prefix are refused: ``edp/`` is the platform's (its lost-worker verdict and worker
identity, which decide whether a forced terminate is offered), ``dagster/`` is Dagster's own, except the
tags Dagster documents for users to set (USER_DAGSTER_TAGS: priority, retries, run time limit...).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_KEY = r"[A-Za-z0-9_.\-/]+"
# A comma followed by optional space and "key=": the start of the next pair.
_PAIR_START = re.compile(rf",\s*(?={_KEY}\s*=)")


RESERVED_PREFIXES = ("edp/", "dagster/")
# Dagster's USER_EDITABLE_SYSTEM_TAGS (dagster/_core/storage/tags.py, 1.13).
USER_DAGSTER_TAGS = frozenset(
    {
        "dagster/priority",
        "dagster/max_retries",
        "dagster/retry_strategy",
        "dagster/max_runtime",
        "dagster/isolation",
        "dagster/retry_on_asset_or_op_failure",
    }
)


def parse_tag(raw: str) -> tuple[str, str]:
    """One ``key=value`` pair (value kept as written, key stripped); ValueError saying what is wrong,
    a reserved key included."""
    key, sep, value = raw.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ValueError(f"tag {raw.strip()!r} is not key=value")
    prefix = next((p for p in RESERVED_PREFIXES if key.lower().startswith(p)), None)
    if prefix is not None and key not in USER_DAGSTER_TAGS:
        owner = "the platform" if prefix == "edp/" else "Dagster"
        raise ValueError(f"tag {key!r}: the prefix {prefix} is reserved for {owner}")
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
