"""Every GraphQL document the dashboard sends is valid against the schema of the pinned dagster-graphql.

dagster-graphql ships its schema (the graphene schema the webserver serves): an upgrade that renames or
removes a field, an argument or a type the documents use fails here, in a unit test, not against a live
webserver.
The documents are found by path (wherever they live under src/edp_tui), so no edp_tui import is needed.
"""

from __future__ import annotations

import functools
from pathlib import Path

import graphql
import pytest
from dagster_graphql.schema import create_schema

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted((REPO_ROOT / "src" / "edp_tui").glob("**/documents/*.graphql"))


@functools.cache
def dagster_schema() -> graphql.GraphQLSchema:
    return create_schema().graphql_schema


def test_the_documents_are_found() -> None:
    assert len(DOCUMENTS) >= 10, f"expected the dashboard's .graphql documents under src/edp_tui: {DOCUMENTS}"


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_document_is_valid_against_the_pinned_schema(path: Path) -> None:
    document = graphql.parse(path.read_text(encoding="utf-8"))
    errors = graphql.validate(dagster_schema(), document)
    assert not errors, f"{path.relative_to(REPO_ROOT)}:\n" + "\n".join(str(e) for e in errors)
    # One operation per file, named like the file: the client sends the file's text as it is.
    operations = [d for d in document.definitions if isinstance(d, graphql.OperationDefinitionNode)]
    assert [op.name.value if op.name else None for op in operations] == [path.stem]


def test_a_renamed_field_is_caught() -> None:
    """The check is not vacuous: the same validation rejects a field the schema lacks."""
    document = graphql.parse("query Q { runsOrError { ... on Runs { results { runIdentifier } } } }")
    errors = graphql.validate(dagster_schema(), document)
    assert any("runIdentifier" in e.message for e in errors)
