"""Every GraphQL document the dashboard sends is valid against the schema of the pinned dagster-graphql.

dagster-graphql ships its schema (the graphene schema the webserver serves): an upgrade that renames or
removes a field, an argument or a type the documents use fails here, in a unit test, not against a live
webserver.
The documents are found by path (wherever they live under src/edp_tui) and validated as the client sends
them: with the fragments they spread appended.
"""

from __future__ import annotations

import functools
from pathlib import Path

import graphql
import pytest
from dagster_graphql.schema import create_schema

from edp_tui.dagster.client import document as sent_text

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted((REPO_ROOT / "src" / "edp_tui").glob("**/documents/*.graphql"))
FRAGMENTS = sorted((REPO_ROOT / "src" / "edp_tui").glob("**/documents/fragments/*.graphql"))


@functools.cache
def dagster_schema() -> graphql.GraphQLSchema:
    return create_schema().graphql_schema


def test_the_documents_are_found() -> None:
    assert len(DOCUMENTS) >= 10, f"expected the dashboard's .graphql documents under src/edp_tui: {DOCUMENTS}"


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_document_is_valid_against_the_pinned_schema(path: Path) -> None:
    document = graphql.parse(sent_text(path.stem))
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


@pytest.mark.parametrize("path", FRAGMENTS, ids=lambda p: p.name)
def test_fragment_is_one_named_like_its_file_and_used(path: Path) -> None:
    document = graphql.parse(path.read_text(encoding="utf-8"))
    names = [d.name.value for d in document.definitions if isinstance(d, graphql.FragmentDefinitionNode)]
    assert names == [path.stem] and len(document.definitions) == 1
    users = [doc.stem for doc in DOCUMENTS if f"...{path.stem}" in doc.read_text(encoding="utf-8")]
    assert users, f"fragment {path.stem} is spread by no document"


def test_a_spread_fragment_is_sent_with_the_document() -> None:
    text = sent_text("LaunchRun")
    assert "fragment LaunchResult on LaunchRunResult" in text
    assert not graphql.validate(dagster_schema(), graphql.parse(text))
