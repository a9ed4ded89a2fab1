"""requirements/*.txt, the lock files (bash scripts/lock.sh): complete, pinned, hashed, consistent with the
projects' own dependency ranges and with each other, and free of any index or host."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO_ROOT = Path(__file__).resolve().parents[2]
IMAGE_LOCK = REPO_ROOT / "requirements" / "image.txt"
DEV_LOCK = REPO_ROOT / "requirements" / "dev.txt"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(\S+)\s*\\$")


def pins(lock: Path) -> dict[str, str]:
    """name -> version, checking that every requirement is an exact pin followed by its hashes."""
    lines = lock.read_text(encoding="utf-8").splitlines()
    found: dict[str, str] = {}
    for i, line in enumerate(lines):
        if not line or line.startswith((" ", "#")):
            continue
        match = PIN.match(line)
        assert match, f"{lock.name}:{i + 1}: not an exact pin with hashes: {line!r}"
        assert lines[i + 1].strip().startswith("--hash=sha256:"), f"{lock.name}:{i + 1}: no hash"
        found[canonicalize_name(match[1])] = match[2]
    return found


def project_requirements(pyproject: Path, *extras: str) -> list[Requirement]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    texts = list(project["dependencies"])
    for extra in extras:
        texts += project["optional-dependencies"][extra]
    return [Requirement(t) for t in texts]


def assert_satisfied(lock: Path, requirements: list[Requirement]) -> None:
    locked = pins(lock)
    for req in requirements:
        name = canonicalize_name(req.name)
        assert name in locked, f"{req} is not in {lock.name}: run bash scripts/lock.sh"
        assert req.specifier.contains(locked[name], prereleases=True), (
            f"{lock.name} pins {name}=={locked[name]}, outside {req}: run bash scripts/lock.sh"
        )


def test_the_image_lock_covers_the_platform_and_the_demo() -> None:
    assert_satisfied(IMAGE_LOCK, project_requirements(REPO_ROOT / "stack" / "platform" / "pyproject.toml"))
    # The demo is served by the image without being installed: what it imports must be there.
    assert_satisfied(IMAGE_LOCK, project_requirements(REPO_ROOT / "etl_pipeline" / "pyproject.toml"))


def test_the_dev_lock_covers_the_dashboard_its_dev_extra_the_platform_and_the_demo() -> None:
    assert_satisfied(DEV_LOCK, project_requirements(REPO_ROOT / "pyproject.toml", "dev"))
    assert_satisfied(DEV_LOCK, project_requirements(REPO_ROOT / "stack" / "platform" / "pyproject.toml"))
    assert_satisfied(DEV_LOCK, project_requirements(REPO_ROOT / "etl_pipeline" / "pyproject.toml"))


def test_shared_packages_have_the_same_version_in_both_locks() -> None:
    image, dev = pins(IMAGE_LOCK), pins(DEV_LOCK)
    assert {n: v for n, v in image.items() if dev.get(n) != v} == {}


@pytest.mark.parametrize("lock", [IMAGE_LOCK, DEV_LOCK], ids=lambda p: p.name)
def test_lock_holds_the_build_backend_and_the_other_helpers_packages(lock: Path) -> None:
    locked = pins(lock)
    # setuptools: the editable installs run offline (--no-build-isolation) with the locked backend.
    assert "setuptools" in locked
    assert locked["dagster-docker"] == "0.29.27"
    assert "watchfiles" in locked


def test_the_dashboard_gets_a_websockets_that_takes_its_connect_arguments() -> None:
    assert int(pins(DEV_LOCK)["websockets"].split(".")[0]) >= 15
    (ws,) = [r for r in project_requirements(REPO_ROOT / "pyproject.toml") if r.name == "websockets"]
    assert not ws.specifier.contains("14.2"), f"pyproject.toml still allows websockets 14: {ws}"


@pytest.mark.parametrize("lock", [IMAGE_LOCK, DEV_LOCK], ids=lambda p: p.name)
def test_lock_names_no_index_and_no_host(lock: Path) -> None:
    text = lock.read_text(encoding="utf-8")
    for option in ("--index-url", "--extra-index-url", "--find-links", "--trusted-host", "-i ", "-f "):
        assert not re.search(rf"(^|\s){re.escape(option)}", text, re.M), f"{lock.name} has {option}"
    assert "://" not in text


def test_setup_reinstalls_when_the_lock_changes(tmp_path: Path) -> None:
    """setup.sh skips the install while its stamp matches: the stamp follows the lock, not only pyproject."""
    for rel in (
        "scripts/setup.sh",
        "pyproject.toml",
        "stack/platform/pyproject.toml",
        "etl_pipeline/pyproject.toml",
        "requirements/dev.txt",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes((REPO_ROOT / rel).read_bytes())

    def stamp() -> str:
        proc = subprocess.run(
            ["bash", str(tmp_path / "scripts" / "setup.sh"), "--stamp"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()

    before = stamp()
    assert before and stamp() == before
    lock = tmp_path / "requirements" / "dev.txt"
    lock.write_text(lock.read_text().replace("==", "===", 1))  # one pin changed
    assert stamp() != before
