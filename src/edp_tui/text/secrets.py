"""Values the dashboard never shows: those of run-config keys and run tags whose name says secret (password,
token, api key, credentials...). Dagster stores a run's config and tags in the clear and its UI shows them;
the dashboard is often on a shared screen or in a screenshot, so it shows ``***`` in their place.

By name, not by value: a secret under an innocent name is not found (keep secrets in environment variables
and pass them with Dagster's ``{env: NAME}``, which is a name, not the value). The run config is masked line
by line, so that it reads as Dagster's YAML does: a secret key's block or nested value is one ``***``.
"""

from __future__ import annotations

import re

MASK = "***"
_SECRET_PARTS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "privatekey",
    "private_key",
    "private-key",
    "credential",
    "access_key",
    "accesskey",
    "authorization",
    "cookie",
)
_SECRET_WORDS = re.compile(r"(?:^|[_\-./])(?:auth|pwd|pass)(?:$|[_\-./])")
# `key: value` or `- key: value` of block-style YAML (what Dagster's runConfigYaml is).
_ENTRY = re.compile(
    r"^(?P<lead>\s*(?:-\s+)*)(?P<key>\"[^\"]*\"|'[^']*'|[^\s:#'\"][^:#]*?)\s*:(?:\s+(?P<value>.*))?$"
)


def secret_name(name: str) -> bool:
    """Whether a key or tag name says its value is a secret."""
    lowered = name.strip().strip("\"'").lower()
    return any(part in lowered for part in _SECRET_PARTS) or bool(_SECRET_WORDS.search(lowered))


def masked_tag(key: str, value: str) -> str:
    return MASK if value and secret_name(key) else value


def masked_yaml(text: str) -> str:
    """``text`` (block-style YAML) with the value of every secret-named key replaced by ``***``; a block
    scalar or a nested value under such a key is left out (its ``***`` is on the key's line)."""
    out: list[str] = []
    hidden_deeper_than: int | None = None
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip(" "))
        if hidden_deeper_than is not None:
            if not line.strip() or indent > hidden_deeper_than:
                continue
            hidden_deeper_than = None
        entry = _ENTRY.match(line)
        if entry is None or not secret_name(entry["key"]):
            out.append(line)
            continue
        value = (entry["value"] or "").strip()
        if not value or value[0] in "|>&":  # a block scalar or nested value follows on deeper lines
            hidden_deeper_than = len(entry["lead"])
        out.append(f"{entry['lead']}{entry['key']}: {MASK}")
    return "\n".join(out)
