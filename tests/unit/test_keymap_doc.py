"""docs/configuration.md lists exactly the binding ids the dashboard has, with their current keys."""

from __future__ import annotations

import re
from pathlib import Path

from edp_tui.ui.keymap import binding_table, known_binding_ids

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def doc_table() -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"<!-- bindings:start -->\n(.*?)\n<!-- bindings:end -->", text, re.S)
    assert match, "docs/configuration.md lost its bindings:start/end markers"
    return match.group(1)


def test_the_doc_lists_exactly_the_binding_ids_of_the_code() -> None:
    documented = set(re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \|", doc_table(), re.M))
    assert documented == known_binding_ids()
    assert len(known_binding_ids()) > 30  # every panel's keys were found, not just the shell's


def test_the_doc_table_is_the_generated_one() -> None:
    # Keys and descriptions too: regenerate with `python -m edp_tui.ui.keymap`.
    assert doc_table() == binding_table()
