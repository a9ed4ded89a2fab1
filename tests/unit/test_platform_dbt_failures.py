"""What a failed dbt test or model tells (edp_platform.dbt.failures): bounded, with file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from edp_platform.dbt import failures
from edp_platform.dbt.failures import FailureDetails, declared_line, markdown_rows

SCHEMA_YML = """version: 2
models:
  - name: orders
    columns:
      - name: id
        data_tests: [unique]
  - name: customers
    columns:
      - name: email
        data_tests:
          - unique
      - name: id
        data_tests:
          - not_null
          - unique
"""

MANIFEST = {
    "nodes": {
        "model.shop.customers": {
            "name": "customers",
            "original_file_path": "models/customers.sql",
            "path": "customers.sql",
            "package_name": "shop",
        },
        "test.shop.unique_customers_id.abc": {
            "name": "unique_customers_id",
            "original_file_path": "models/_schema.yml",
            "path": "unique_customers_id.sql",
            "package_name": "shop",
            "attached_node": "model.shop.customers",
            "column_name": "id",
            "test_metadata": {"name": "unique"},
            "depends_on": {"nodes": ["model.shop.customers"]},
        },
    }
}
TEST_ID = "test.shop.unique_customers_id.abc"
COMPILED = "select id from customers group by id having count(*) > 1"
RELATION = {"database": "warehouse", "schema": "shop_dbt_test__audit", "alias": "unique_customers_id"}


def test_the_line_of_a_generic_test_is_under_its_model_and_column() -> None:
    assert declared_line(SCHEMA_YML, "customers", "id", "unique") == 15
    assert declared_line(SCHEMA_YML, "customers", "email", "unique") == 11
    assert declared_line(SCHEMA_YML, "customers", None, None) == 7
    assert declared_line(SCHEMA_YML, "nowhere", "id", "unique") == 1


def test_rows_are_a_bounded_markdown_table_shown_literally() -> None:
    text = markdown_rows(["id", "note"], [(1, "a|b\nc"), (None, "x" * 500)])
    lines = text.splitlines()
    assert lines[:2] == ["| id | note |", "|---|---|"]
    assert lines[2] == "| 1 | a\\|b c |"
    assert len(lines[3]) < 100 and lines[3].endswith("… |")


def no_keep(node, sql: str, stored: str | None):
    raise AssertionError("nothing to keep")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    code = tmp_path / "code"
    source = code / "projects" / "shop"
    (source / "models").mkdir(parents=True)
    (source / "models" / "_schema.yml").write_text(SCHEMA_YML)
    target = tmp_path / "target"
    compiled = target / "compiled" / "shop" / "models" / "_schema.yml"
    compiled.mkdir(parents=True)
    (compiled / "unique_customers_id.sql").write_text(
        "select id from customers group by id having count(*) > 1"
    )
    monkeypatch.setenv("EDP_CODE_ROOT", str(code))
    monkeypatch.setenv("EDP_DBT_SOURCE_DIR", str(source))
    return source, target


def test_a_failed_test_has_its_rows_sql_file_and_line(project: tuple[Path, Path]) -> None:
    source, target = project
    asked = []

    def keep(node, sql: str, stored: str | None):
        asked.append((node["name"], sql, stored))
        return '"w"."shop_dbt_failures"."unique_customers_id"', ["id", "n"], [(7, 2)]

    found = FailureDetails(MANIFEST, source, target, keep).test_metadata(TEST_ID, RELATION)
    assert asked == [("unique_customers_id", COMPILED, None)]
    assert found["dbt/failures_relation"].value == '"w"."shop_dbt_failures"."unique_customers_id"'
    assert found["dbt/failing_rows"].value.splitlines()[2] == "| 7 | 2 |"
    assert "having count(*) > 1" in found["dbt/compiled_sql"].value
    assert found["dbt/file"].value == "projects/shop/models/_schema.yml"
    assert found["dbt/line"].value == 15
    assert found["dbt/model_file"].value == "projects/shop/models/customers.sql"


def test_a_table_dbt_stored_itself_is_the_one_read(project: tuple[Path, Path]) -> None:
    source, target = project
    asked = []

    def keep(node, sql: str, stored: str | None):
        asked.append(stored)
        return str(stored), ["id"], []

    relation = {**RELATION, "relation_name": '"w"."audit"."t"'}
    found = FailureDetails(MANIFEST, source, target, keep).test_metadata(TEST_ID, relation)
    assert asked == ['"w"."audit"."t"']
    assert found["dbt/failing_rows"].value.splitlines() == ["| id |", "|---|"]


def test_rows_that_cannot_be_kept_leave_the_rest(project: tuple[Path, Path]) -> None:
    source, target = project

    def broken(node, sql: str, stored: str | None):
        raise RuntimeError("permission denied for schema")

    found = FailureDetails(MANIFEST, source, target, broken).test_metadata(TEST_ID, RELATION)
    assert "dbt/failing_rows" not in found and "dbt/failures_relation" not in found
    assert "dbt/compiled_sql" in found and found["dbt/line"].value == 15


def test_samples_are_bounded_in_number(project: tuple[Path, Path]) -> None:
    source, target = project
    details = FailureDetails(MANIFEST, source, target, lambda node, sql, stored: ("t", ["id"], [(1,)]))
    sampled = [details.test_metadata(TEST_ID, RELATION) for _ in range(failures.MAX_SAMPLED_TESTS + 3)]
    assert sum("dbt/failing_rows" in f for f in sampled) == failures.MAX_SAMPLED_TESTS


def test_failed_models_give_their_error_and_compiled_sql(project: tuple[Path, Path]) -> None:
    source, target = project
    results = [
        {
            "unique_id": "model.shop.customers",
            "status": "error",
            "message": "relation x" * 1000,
            "compiled_code": "select * from x",
        },
        {"unique_id": "model.shop.ok", "status": "success", "message": "SELECT 1"},
        *({"unique_id": f"model.shop.m{i}", "status": "error", "message": "boom"} for i in range(6)),
    ]
    (target / "run_results.json").write_text(json.dumps({"results": results}))
    found = FailureDetails(MANIFEST, source, target, no_keep).failed_nodes_metadata()
    error = found["dbt/error/model.shop.customers"].value
    assert error.startswith("relation x") and len(error) == failures.ERROR_CHARS
    assert found["dbt/compiled_sql/model.shop.customers"].value == "```sql\nselect * from x\n```"
    assert found["dbt/file/model.shop.customers"].value == "projects/shop/models/customers.sql"
    assert "dbt/error/model.shop.ok" not in found
    assert sum(k.startswith("dbt/error/") for k in found) == failures.MAX_FAILED_NODES
    assert found["dbt/more_failed_nodes"].value == 2


def test_no_run_results_no_metadata(project: tuple[Path, Path]) -> None:
    source, target = project
    assert FailureDetails(MANIFEST, source, target, no_keep).failed_nodes_metadata() == {}


def test_a_long_test_name_fits_postgres_and_stays_the_same() -> None:
    name = "accepted_values_" + "x" * 80
    first = failures.failures_identifier({"alias": name})
    assert len(first) <= 63 and first == failures.failures_identifier({"alias": name})
    assert failures.failures_identifier({"alias": "short"}) == "short"
