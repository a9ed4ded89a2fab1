"""One parser for "which runs": the runs panel's filter line, e.g. ``status:failure,canceled job:ingest k=v``.

Words: ``status:A,B`` (Dagster run statuses, any case), ``job:NAME``, ``location:NAME`` (the code location
the run's job lives in), ``tag:KEY=VALUE`` or bare ``KEY=VALUE``, ``partition:KEY`` (the run's partition),
``backfill:ID`` (the runs of a backfill), ``id:RUN_ID`` or a bare run id (a full id is looked up by the
webserver; a shorter hex prefix matches among the runs listed). Any other bare word is a job name. Bad input
raises ValueError and changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from edp_tui.dagster.models import CODE_LOCATION_TAG, RUN_STATUSES

PARTITION_TAG = "dagster/partition"
BACKFILL_TAG = "dagster/backfill"
# Dagster's own tags, shown by their meaning in describe().
TAG_WORDS = {PARTITION_TAG: "partition", BACKFILL_TAG: "backfill"}

_FULL_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_ID_PREFIX = re.compile(r"^[0-9a-f-]{4,36}$")


@dataclass(frozen=True)
class RunsQuery:
    statuses: tuple[str, ...] = ()
    job_name: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    run_ids: tuple[str, ...] = ()
    id_prefix: str | None = None
    text: str = field(default="", compare=False)
    location: str | None = None

    @property
    def empty(self) -> bool:
        return not (
            self.statuses or self.job_name or self.location or self.tags or self.run_ids or self.id_prefix
        )

    def run_tags(self) -> dict[str, str]:
        """What the webserver filters on: the tags, and the location as the tag Dagster gives every run."""
        return {**dict(self.tags), **({CODE_LOCATION_TAG: self.location} if self.location else {})}

    def describe(self) -> str:
        parts = []
        if self.statuses:
            parts.append("status " + ",".join(self.statuses))
        if self.location:
            parts.append(f"location {self.location}")
        if self.job_name:
            parts.append(f"job {self.job_name}")
        parts += [f"{TAG_WORDS[k]} {v}" if k in TAG_WORDS else f"tag {k}={v}" for k, v in self.tags]
        parts += [f"id {r}" for r in self.run_ids]
        if self.id_prefix:
            parts.append(f"id {self.id_prefix}…")
        return " · ".join(parts)


def _looks_like_id(word: str) -> bool:
    # A bare word is a run id when it is hex with a digit in it (so a job name like "deadbeef" stays a job).
    return bool(_ID_PREFIX.match(word.lower())) and any(c.isdigit() for c in word)


def _tag(word: str) -> tuple[str, str]:
    key, _, value = word.partition("=")
    if not key.strip():
        raise ValueError(f"tag {word!r}: expected key=value")
    return key.strip(), value.strip()


def parse_runs_query(text: str) -> RunsQuery:
    statuses: list[str] = []
    tags: list[tuple[str, str]] = []
    run_ids: list[str] = []
    job: str | None = None
    location: str | None = None
    prefix: str | None = None
    for word in text.split():
        kind, sep, value = word.partition(":")
        if sep and kind.lower() == "status":
            for status in filter(None, value.upper().split(",")):
                if status not in RUN_STATUSES:
                    raise ValueError(f"unknown run status {status!r}; known: {', '.join(RUN_STATUSES)}")
                statuses.append(status)
        elif sep and kind.lower() == "job":
            if not value:
                raise ValueError("job: needs a job name")
            job = value
        elif sep and kind.lower() == "location":
            if not value:
                raise ValueError("location: needs a code location name")
            location = value
        elif sep and kind.lower() == "tag":
            tags.append(_tag(value))
        elif sep and kind.lower() in ("partition", "backfill"):
            if not value:
                raise ValueError(f"{kind.lower()}: needs a value")
            tags.append((PARTITION_TAG if kind.lower() == "partition" else BACKFILL_TAG, value))
        elif (
            sep and kind.lower() == "id" or _ID_PREFIX.match(word.lower()) and any(c.isdigit() for c in word)
        ):
            run_id = (value if sep else word).lower()
            if _FULL_ID.match(run_id):
                run_ids.append(run_id)
            elif _ID_PREFIX.match(run_id):
                prefix = run_id
            else:
                raise ValueError(f"{run_id!r} is not a run id (hex digits, at least 4)")
        elif "=" in word:
            tags.append(_tag(word))
        elif sep:
            raise ValueError(
                f"unknown filter {kind!r}: use status:, job:, location:, tag:, partition:, backfill:, id: "
                "or key=value"
            )
        else:
            job = word
    return RunsQuery(tuple(statuses), job, tuple(tags), tuple(run_ids), prefix, text.strip(), location)
