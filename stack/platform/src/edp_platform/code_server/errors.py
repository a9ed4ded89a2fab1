"""A failed check as {kind, file, line, text}: where it is, in the words of Python or dbt.

`file` is relative to the repository when it lies in a watched folder (the dashboard runs on the host, where
the same file sits at that relative path), else the path as the container sees it.
"""

from __future__ import annotations

import re
import traceback
from pathlib import Path
from typing import Any

MAX_DETAIL_CHARS = 8000
DBT_FILE = re.compile(r"\(([^()\s]+\.(?:sql|yml|yaml|csv|py|md))\)")
DBT_LINE = re.compile(r"\bline (\d+)\b")


def display_path(path: str, roots: dict[str, str]) -> str:
    """`roots` maps a watched folder to its repository-relative name (/opt/.../dbt_project -> dbt_project)."""
    for root, name in sorted(roots.items(), key=lambda kv: len(kv[0]), reverse=True):
        try:
            rel = Path(path).relative_to(root)
        except ValueError:
            continue
        return str(Path(name) / rel)
    return path


def python_error(exc: BaseException, roots: dict[str, str]) -> dict[str, Any]:
    """The innermost place in the watched code where the exception arose (a SyntaxError's own position)."""
    innermost = exc
    while innermost.__cause__ is not None or (
        innermost.__context__ is not None and not innermost.__suppress_context__
    ):
        innermost = innermost.__cause__ or innermost.__context__  # type: ignore[assignment]
    file: str | None = None
    line: int | None = None
    if isinstance(innermost, SyntaxError) and innermost.filename:
        file, line = innermost.filename, innermost.lineno
    else:
        frames = traceback.extract_tb(innermost.__traceback__)
        in_roots = [f for f in frames if any(f.filename.startswith(r) for r in roots)]
        chosen = (in_roots or frames)[-1:] if frames else []
        if chosen:
            file, line = chosen[0].filename, chosen[0].lineno
    text = "".join(traceback.format_exception_only(type(innermost), innermost)).strip()
    if isinstance(innermost, SyntaxError):  # file and line have fields of their own
        text = re.sub(r'^\s*File "[^"]*", line \d+\n', "", text)
    detail = "".join(traceback.format_exception(exc)).strip()
    return {
        "kind": "python",
        "file": display_path(file, roots) if file else None,
        "line": line,
        "text": text,
        "detail": detail[-MAX_DETAIL_CHARS:],
    }


def dbt_error(message: str, dbt_name: str) -> dict[str, Any]:
    """dbt's message as it is; file (dbt names it relative to the project) and line when it names them."""
    file_match = DBT_FILE.search(message)
    line_match = DBT_LINE.search(message)
    return {
        "kind": "dbt",
        "file": str(Path(dbt_name) / file_match.group(1)) if file_match else None,
        "line": int(line_match.group(1)) if line_match else None,
        "text": message.strip()[:MAX_DETAIL_CHARS],
        "detail": message.strip()[-MAX_DETAIL_CHARS:],
    }


def generic_error(text: str) -> dict[str, Any]:
    """A failure that is neither (the new server did not start, timed out...)."""
    return {"kind": "python", "file": None, "line": None, "text": text.strip(), "detail": text.strip()}
