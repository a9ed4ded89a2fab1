"""Dagster metadata entries (``...MetadataEntryValue``) as (label, value) pairs, and what the platform's dbt
integration attaches to a failed dbt step (edp_platform/dbt/failures.py): per failed model its error, compiled
SQL and file, under ``dbt/error/<unique id>``, ``dbt/compiled_sql/<unique id>``, ``dbt/file/<unique id>``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

Metadata = tuple[tuple[str, object], ...]

_VALUE_FIELDS = ("text", "mdStr", "path", "intValue", "floatValue", "jsonString", "url", "boolValue")


def metadata_value(entry: dict[str, Any]) -> object:
    for name in _VALUE_FIELDS:
        if entry.get(name) is not None:
            return entry[name]
    if entry.get("intRepr") is not None:  # an int beyond GraphQL's 32 bits
        return int(entry["intRepr"])
    return None


def metadata_of(entries: Iterable[object] | None) -> Metadata:
    """(label, value) pairs in Dagster's order; anything that is not an entry is skipped."""
    return tuple((str(e.get("label") or ""), metadata_value(e)) for e in entries or () if isinstance(e, dict))


def sql_of(markdown: str) -> str:
    """The SQL inside the platform's ```sql fence (else the text as it is)."""
    match = re.fullmatch(r"\s*```[a-z]*\n(.*?)\n?```\s*", markdown, re.S)
    return match.group(1) if match else markdown


@dataclass(frozen=True)
class FailedNode:
    """One failed dbt model (or seed, snapshot) of a step's failure."""

    unique_id: str
    error: str
    compiled_sql: str | None
    file: str | None


def failed_nodes(metadata: Metadata) -> tuple[FailedNode, ...]:
    """The failed dbt nodes named in a step failure's metadata, in the platform's order."""
    values = dict(metadata)
    nodes: list[FailedNode] = []
    for label, value in metadata:
        if not label.startswith("dbt/error/"):
            continue
        unique_id = label.removeprefix("dbt/error/")
        sql = values.get(f"dbt/compiled_sql/{unique_id}")
        file = values.get(f"dbt/file/{unique_id}")
        nodes.append(
            FailedNode(
                unique_id,
                str(value or ""),
                sql_of(sql) if isinstance(sql, str) else None,
                file if isinstance(file, str) and file else None,
            )
        )
    return tuple(nodes)
