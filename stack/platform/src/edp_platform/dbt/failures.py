"""Why a dbt test or model failed, as metadata Dagster's UI (and the dashboard) shows beside the failure.

A failed test's failing rows are kept in a table of the schema the platform owns for the location,
`<target schema>_dbt_failures` (the location's schema, `_dev` for the dev target), named like the test and
replaced at its next failure: what dbt's `store_failures` keeps, for the failed tests only. dbt's own
`--store-failures` on every build stores every test, passing or not: measured at 1,000 models and 200 tests
(bench/dbt_scale.py's projects), it took the bare `dbt build` from 58 s to 112 s. So the platform runs the
test's compiled query (the failing rows, as dbt compiled it into the invocation's target) into that table
when dbt reports the failure, through dbt's own adapter for the platform's profile; a project that configures
`store_failures` itself keeps dbt's table (the event names it), which is then read. For a failed test the
check's metadata holds:

- `dagster_dbt/failed_row_count` (dagster-dbt's own: dbt's count of failing rows),
- `dbt/failures_relation`: the table holding every failing row, to query by hand,
- `dbt/failing_rows`: a sample of them (the first SAMPLE_ROWS rows, each value cut at CELL_CHARS) as a
  markdown table,
- `dbt/compiled_sql`: the test's compiled SQL (cut at SQL_CHARS),
- `dbt/file`, `dbt/line`: where the test is declared (a schema file and the line of the test under its
  model and column, or the singular test's own file), and `dbt/model_file`: the tested model's file. Paths
  are relative to the code folder (EDP_CODE_DIR on the host), so an editor on the host opens them.

A failed model (or seed, snapshot) is in dbt's run_results.json when dbt ends: its error and compiled SQL
become metadata of the step's failure (`dbt/error/<unique id>`, `dbt/compiled_sql/<unique id>`,
`dbt/file/<unique id>`), for the first MAX_FAILED_NODES of them.

Everything is bounded (rows, characters, nodes) and best effort: what cannot be read is left out, never a
reason for the run to fail differently.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import dagster as dg

SAMPLE_ROWS = 5
CELL_CHARS = 80
SQL_CHARS = 4000
ERROR_CHARS = 4000
MAX_FAILED_NODES = 5
MAX_SAMPLED_TESTS = 20  # a build with hundreds of failing tests samples the first ones only

logger = logging.getLogger("edp.dbt.failures")


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def code_path(project_dir: Path, relative: str) -> str:
    """A project file as the user knows it: relative to the code folder when the project is in it."""
    source = Path(os.environ.get("EDP_DBT_SOURCE_DIR") or project_dir)
    root = os.environ.get("EDP_CODE_ROOT")
    path = source / relative
    if root:
        try:
            return str(path.relative_to(os.path.realpath(root)))
        except ValueError:
            try:
                return str(path.relative_to(root))
            except ValueError:
                pass
    return str(path)


def declared_line(text: str, model: str | None, column: str | None, test: str | None) -> int:
    """The line (1-based) of a generic test in a schema file: under its model's entry, its column's, then
    the test's name; the deepest of them found, else 1."""
    lines = text.splitlines()
    line = 0
    for wanted, pattern in (
        (model, r"^\s*-\s*name:\s*['\"]?{}['\"]?\s*$"),
        (column, r"^\s*-\s*name:\s*['\"]?{}['\"]?\s*$"),
        (test, r"\b{}\b"),
    ):
        if not wanted:
            continue
        regex = re.compile(pattern.format(re.escape(wanted)))
        found = next((i for i in range(line, len(lines)) if regex.search(lines[i])), None)
        if found is None:
            break
        line = found
    return line + 1


def markdown_rows(columns: list[str], rows: list[tuple[Any, ...]]) -> str:
    def cell(value: Any) -> str:
        text = "" if value is None else str(value)
        return cut(text, CELL_CHARS).replace("|", "\\|").replace("\n", " ")

    head = "| " + " | ".join(cell(c) for c in columns) + " |"
    rule = "|" + "---|" * len(columns)
    return "\n".join([head, rule, *("| " + " | ".join(cell(v) for v in row) + " |" for row in rows)])


def compiled_sql(target_path: Path, node: Mapping[str, Any]) -> str | None:
    """The node's compiled SQL as dbt wrote it into the invocation's target (dbt's get_target_write_path)."""
    original, path = node.get("original_file_path", ""), node.get("path", "")
    relative = original if Path(path).name == Path(original).name else os.path.join(original, path)
    try:
        return (target_path / "compiled" / node.get("package_name", "") / relative).read_text()
    except OSError:
        return None


def sql_block(sql: str) -> dg.MetadataValue:
    return dg.MetadataValue.md("```sql\n" + cut(sql, SQL_CHARS) + "\n```")


# Keeps a failed test's rows: (its node, its compiled SQL, the table dbt stored them in or None) -> (the
# table holding them, the sample's columns, the sample's rows). Raises when it cannot.
KeepRows = Callable[[Mapping[str, Any], str, str | None], tuple[str, list[str], list[tuple[Any, ...]]]]


class FailureDetails:
    """Metadata for the failures of one dbt invocation; `keep` stores and samples a failed test's rows
    (WarehouseRows in a run, a fake in a test)."""

    def __init__(
        self, manifest: Mapping[str, Any], project_dir: Path, target_path: Path, keep: KeepRows
    ) -> None:
        self.manifest, self.project_dir, self.target_path = manifest, project_dir, target_path
        self.keep = keep
        self.kept = 0

    def test_metadata(self, unique_id: str, node_relation: Mapping[str, Any] | None) -> dict[str, Any]:
        node = self.manifest.get("nodes", {}).get(unique_id)
        if node is None:
            return {}
        found: dict[str, Any] = {}
        sql = compiled_sql(self.target_path, node)
        stored = (node_relation or {}).get("relation_name")  # set when the project stores failures itself
        if (sql is not None or stored) and self.kept < MAX_SAMPLED_TESTS:
            self.kept += 1
            try:
                relation, columns, rows = self.keep(node, sql or "", stored)
                found["dbt/failures_relation"] = dg.MetadataValue.text(relation)
                found["dbt/failing_rows"] = dg.MetadataValue.md(markdown_rows(columns, rows))
            except Exception as exc:  # best effort: the failure itself is what matters
                logger.warning("could not keep the failing rows of %s: %s", unique_id, exc)
        if sql is not None:
            found["dbt/compiled_sql"] = sql_block(sql)
        found.update(self._location(node))
        return found

    def _location(self, node: Mapping[str, Any]) -> dict[str, Any]:
        original = node.get("original_file_path") or ""
        found: dict[str, Any] = {"dbt/file": dg.MetadataValue.path(code_path(self.project_dir, original))}
        attached = node.get("attached_node") or next(iter(node.get("depends_on", {}).get("nodes", [])), None)
        model = self.manifest.get("nodes", {}).get(attached) if attached else None
        line = 1
        if original.endswith((".yml", ".yaml")):
            try:
                text = (self.project_dir / original).read_text(encoding="utf-8", errors="replace")
                test = (node.get("test_metadata") or {}).get("name")
                line = declared_line(
                    text, model.get("name") if model else None, node.get("column_name"), test
                )
            except OSError:
                pass
        found["dbt/line"] = dg.MetadataValue.int(line)
        if model is not None:
            found["dbt/model_file"] = dg.MetadataValue.path(
                code_path(self.project_dir, model.get("original_file_path", ""))
            )
        return found

    def failed_nodes_metadata(self) -> dict[str, Any]:
        """Metadata of the step's failure: each failed model's error and compiled SQL, from run_results."""
        try:
            results = json.loads((self.target_path / "run_results.json").read_text()).get("results", [])
        except (OSError, ValueError):
            return {}
        found: dict[str, Any] = {}
        failed = [r for r in results if r.get("status") == "error"]
        for result in failed[:MAX_FAILED_NODES]:
            unique_id = result.get("unique_id", "?")
            found[f"dbt/error/{unique_id}"] = dg.MetadataValue.text(
                cut(result.get("message") or "", ERROR_CHARS)
            )
            node = self.manifest.get("nodes", {}).get(unique_id, {})
            sql = result.get("compiled_code") or (compiled_sql(self.target_path, node) if node else None)
            if sql:
                found[f"dbt/compiled_sql/{unique_id}"] = sql_block(sql)
            if node.get("original_file_path"):
                found[f"dbt/file/{unique_id}"] = dg.MetadataValue.path(
                    code_path(self.project_dir, node["original_file_path"])
                )
        if len(failed) > MAX_FAILED_NODES:
            found["dbt/more_failed_nodes"] = dg.MetadataValue.int(len(failed) - MAX_FAILED_NODES)
        return found


def failures_identifier(node: Mapping[str, Any]) -> str:
    """The table name of a test's failing rows: its alias as dbt names it, within PostgreSQL's 63 bytes."""
    name = str(node.get("alias") or node.get("name") or "test")
    if len(name.encode()) <= 63:
        return name
    return name[:40] + "_" + hashlib.sha256(name.encode()).hexdigest()[:16]


class WarehouseRows:
    """Keeps failing rows in `<target schema>_dbt_failures` through a dbt adapter made on first use (none is
    made while every test passes)."""

    def __init__(self, make_adapter: Callable[[], Any]) -> None:
        self._make_adapter = make_adapter
        self._adapter: Any = None

    def __call__(
        self, node: Mapping[str, Any], sql: str, stored: str | None
    ) -> tuple[str, list[str], list[tuple[Any, ...]]]:
        if self._adapter is None:
            self._adapter = self._make_adapter()
        adapter = self._adapter
        with adapter.connection_named("edp_failing_rows"):
            if stored:
                relation = stored
            else:
                target = adapter.Relation.create(
                    database=node.get("database"),
                    schema=f"{adapter.config.credentials.schema}_dbt_failures",
                    identifier=failures_identifier(node),
                )
                relation = str(target)
                adapter.create_schema(target)
                adapter.execute(f"drop table if exists {relation}", auto_begin=True)
                adapter.execute(f"create table {relation} as (\n{sql}\n)", auto_begin=True)
                adapter.commit_if_has_connection()
            _, table = adapter.execute(f"select * from {relation} limit {SAMPLE_ROWS}", fetch=True)
        return relation, list(table.column_names), [tuple(row) for row in table.rows]
