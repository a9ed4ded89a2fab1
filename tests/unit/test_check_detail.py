"""A check's execution with the platform's dbt metadata, the editor's line argument, the code folder as
Compose mounts it."""

from __future__ import annotations

from pathlib import Path

from edp_tui.compose import parse_config
from edp_tui.dagster.check_detail import CheckExecution, markdown_table, sql_of
from edp_tui.editor import editor_argv


def test_an_execution_with_the_platforms_dbt_metadata() -> None:
    execution = CheckExecution.from_graphql(
        {
            "runId": "r1",
            "status": "FAILED",
            "timestamp": 1_767_355_000.5,
            "evaluation": {
                "severity": "ERROR",
                "metadataEntries": [
                    {
                        "__typename": "IntMetadataEntry",
                        "label": "dagster_dbt/failed_row_count",
                        "intValue": 3,
                    },
                    {
                        "__typename": "MarkdownMetadataEntry",
                        "label": "dbt/failing_rows",
                        "mdStr": "| a |\n|---|\n| 1 |",
                    },
                    {
                        "__typename": "MarkdownMetadataEntry",
                        "label": "dbt/compiled_sql",
                        "mdStr": "```sql\nselect 1\n```",
                    },
                    {"__typename": "PathMetadataEntry", "label": "dbt/file", "path": "dbt/tests/t.sql"},
                    {"__typename": "IntMetadataEntry", "label": "dbt/line", "intValue": None, "intRepr": "7"},
                    {
                        "__typename": "TextMetadataEntry",
                        "label": "dbt/failures_relation",
                        "text": '"w"."s"."t"',
                    },
                ],
            },
        }
    )
    assert execution.failed_row_count == 3 and execution.line == 7 and execution.file == "dbt/tests/t.sql"
    assert execution.failing_rows == (["a"], [["1"]])
    assert execution.compiled_sql == "select 1"
    assert execution.others == [("dbt/failures_relation", '"w"."s"."t"')]
    empty = CheckExecution.from_graphql({"status": "SUCCEEDED"})
    assert empty.failed_row_count is None and empty.failing_rows == ([], []) and empty.file is None


def test_a_markdown_table_keeps_escaped_pipes_and_empty_cells() -> None:
    columns, rows = markdown_table("| id | note |\n|---|---|\n| 1 | a \\| b |\n| 2 |  |\n")
    assert columns == ["id", "note"] and rows == [["1", "a | b"], ["2", ""]]
    assert markdown_table("no table here") == ([], [])
    assert sql_of("select 2") == "select 2"


def test_the_editor_gets_the_line_it_understands() -> None:
    path = Path("/code/models/x.sql")
    assert editor_argv(path, 4, {"EDITOR": "vim"}) == ["vim", "+4", str(path)]
    assert editor_argv(path, 4, {"VISUAL": "code --wait", "EDITOR": "vim"}) == [
        "code",
        "--wait",
        "--goto",
        f"{path}:4",
    ]
    assert editor_argv(path, 4, {"EDITOR": "/usr/local/bin/hx"}) == ["/usr/local/bin/hx", f"{path}:4"]
    assert editor_argv(path, None, {}) == ["vi", str(path)]


def test_the_code_folder_is_the_bind_source_of_user_codes_code_root() -> None:
    payload = {
        "name": "edp",
        "services": {
            "postgres": {
                "volumes": [{"type": "volume", "source": "pg", "target": "/var/lib/postgresql/data"}]
            },
            "user-code": {
                "volumes": [
                    {
                        "type": "bind",
                        "source": "/home/me/platform",
                        "target": "/opt/dagster/app",
                        "read_only": True,
                    },
                    {"type": "volume", "source": "dbt_target", "target": "/opt/dagster/dbt"},
                ]
            },
        },
    }
    assert parse_config(payload, Path("/x/compose.yaml")).code_dir == Path("/home/me/platform")
    assert parse_config({"name": "p", "services": {"a": {}}}, Path("/x")).code_dir is None
