"""The platform apart from the code it serves: stack/platform imports nothing of the demo, the Dagster
instance names only the platform's and Dagster's own classes, the image installs the platform rather than
mounting it, and the platform and the demo type-check."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
PLATFORM = REPO / "stack" / "platform" / "src" / "edp_platform"


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_platform_imports_no_user_code() -> None:
    for path in PLATFORM.rglob("*.py"):
        foreign = {
            m for m in imported_modules(path) if m.split(".")[0] in {"etl_pipeline", "edp_tui", "textual"}
        }
        assert not foreign, f"{path.relative_to(REPO)} imports {sorted(foreign)}"


def test_the_instance_names_only_the_platforms_and_dagsters_classes() -> None:
    for name in ("dagster.yaml", "dagster.run-containers.yaml"):
        doc = yaml.safe_load((REPO / "stack" / name).read_text())
        modules = {v["module"] for v in doc.values() if isinstance(v, dict) and "module" in v}
        assert modules, name
        assert all(
            m.split(".")[0] in {"edp_platform", "dagster", "dagster_postgres", "dagster_docker"}
            for m in modules
        ), (
            name,
            modules,
        )


def test_the_platform_is_installed_in_the_image_and_the_code_mounted_read_only() -> None:
    dockerfile = (REPO / "stack" / "Dockerfile").read_text()
    assert "pip install --no-index --no-deps --no-build-isolation /tmp/edp-platform" in dockerfile
    compose = yaml.safe_load((REPO / "stack" / "docker-compose.yaml").read_text())
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source, target = str(volume).split(":")[:2]
            assert "platform" not in source, volume  # never bind-mounted: a save cannot change it
            if target == "/opt/dagster/app":
                assert str(volume).endswith(":ro"), volume


def test_the_platform_and_the_demo_type_check() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            str(REPO / "stack" / "platform" / "src"),
            str(REPO / "etl_pipeline" / "src"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
