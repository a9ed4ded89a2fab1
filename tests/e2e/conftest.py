"""The e2e layer: a real Docker engine, the repository's base images, and (phase 2) the compose stack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.docker_engine import ensure_base_images, ensure_engine


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session", autouse=True)
def docker_engine() -> Iterator[None]:
    """Every e2e test needs the engine and the base images: install/start/build them once, when missing."""
    ensure_engine()
    ensure_base_images()
    yield
