"""The engine bootstrap and the air-gapped base images, checked on the real engine.

The session fixture in conftest.py already ran both scripts; these tests check that a second run is a silent
no-op and that the stand-in images keep the contracts the stack relies on.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

from tests.support.docker_engine import (
    BUILD_BASE_IMAGES,
    DEBIAN_IMAGE,
    ENSURE_ENGINE,
    POSTGRES_IMAGE,
    PYTHON_IMAGE,
    REPO_ROOT,
    base_image,
)


def run(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, check=check)


@pytest.fixture
def container_name() -> Iterator[str]:
    name = f"edp-test-{uuid.uuid4().hex[:10]}"
    yield name
    run("docker", "rm", "-f", "-v", name, check=False)


def test_scripts_are_silent_no_ops_when_everything_is_there() -> None:
    for script in (ENSURE_ENGINE, BUILD_BASE_IMAGES):
        proc = run("bash", str(script))
        assert proc.returncode == 0
        assert proc.stdout == "" and proc.stderr == "", (
            f"{script.name} did work on a second run: {proc.stderr}"
        )


def test_build_script_rejects_unknown_arguments() -> None:
    proc = run("bash", str(BUILD_BASE_IMAGES), "--nonsense", check=False)
    assert proc.returncode != 0
    assert "unknown argument '--nonsense'" in proc.stderr


def test_base_image_has_bash_and_coreutils() -> None:
    assert base_image() == DEBIAN_IMAGE
    proc = run(
        "docker", "run", "--rm", DEBIAN_IMAGE, "bash", "-c", "sh -c 'echo ok' && ls --version | head -n1"
    )
    assert proc.stdout.splitlines() == ["ok", "ls (GNU coreutils) 9.1"]


def _wait_ready(name: str, user: str, db: str, deadline_s: float = 60) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        # -h 127.0.0.1: only the final server listens on TCP; the set-up server listens on the socket only.
        if (
            run(
                "docker", "exec", name, "pg_isready", "-h", "127.0.0.1", "-U", user, "-d", db, check=False
            ).returncode
            == 0
        ):
            return
        time.sleep(0.5)
    logs = run("docker", "logs", name, check=False)
    pytest.fail(f"postgres in {name} not ready within {deadline_s} s:\n{logs.stdout}{logs.stderr}")


def _psql(name: str, password: str, user: str, db: str, sql: str) -> subprocess.CompletedProcess[str]:
    return run(
        "docker", "exec", "-e", f"PGPASSWORD={password}", name,
        "psql", "-h", "127.0.0.1", "-U", user, "-d", db, "-tA", "-c", sql,
        check=False,
    )  # fmt: skip


def test_postgres_stand_in_keeps_the_official_contract(container_name: str, tmp_path) -> None:
    init_sql = tmp_path / "10-table.sql"
    init_sql.write_text("CREATE TABLE seeded (x int); INSERT INTO seeded VALUES (42);\n")
    volume = f"{container_name}-data"
    try:
        run(
            "docker", "run", "-d", "--name", container_name,
            "-e", "POSTGRES_USER=alice", "-e", "POSTGRES_PASSWORD=s3cret", "-e", "POSTGRES_DB=shop",
            "-e", "PGDATA=/var/lib/postgresql/data/pgdata",
            "-v", f"{volume}:/var/lib/postgresql/data",
            "-v", f"{init_sql}:/docker-entrypoint-initdb.d/10-table.sql:ro",
            POSTGRES_IMAGE,
        )  # fmt: skip
        _wait_ready(container_name, "alice", "shop")
        ok = _psql(
            container_name,
            "s3cret",
            "alice",
            "shop",
            "SELECT current_user, current_database(), x FROM seeded",
        )
        assert ok.stdout.strip() == "alice|shop|42", ok.stderr
        wrong = _psql(container_name, "nope", "alice", "shop", "SELECT 1")
        assert wrong.returncode != 0 and "password authentication failed" in wrong.stderr
        # The server runs as postgres (not root) and owns the data folder.
        status = run("docker", "exec", container_name, "cat", "/proc/1/status").stdout
        uid = run("docker", "exec", container_name, "id", "-u", "postgres").stdout.strip()
        assert f"Uid:\t{uid}\t" in status and uid != "0"
        owner = run("docker", "exec", container_name, "stat", "-c", "%U", "/var/lib/postgresql/data/pgdata")
        assert owner.stdout.strip() == "postgres"

        # A restart keeps the data and does not initialise again.
        run("docker", "restart", container_name)
        _wait_ready(container_name, "alice", "shop")
        again = _psql(container_name, "s3cret", "alice", "shop", "SELECT count(*) FROM seeded")
        assert again.stdout.strip() == "1"
        assert run("docker", "logs", container_name).stderr.count("initialising a new cluster") == 1
    finally:
        run("docker", "rm", "-f", "-v", container_name, check=False)
        run("docker", "volume", "rm", "-f", volume, check=False)


def test_postgres_stand_in_refuses_to_start_without_a_password(container_name: str) -> None:
    proc = run("docker", "run", "--name", container_name, POSTGRES_IMAGE, check=False, timeout=60)
    assert proc.returncode != 0
    assert "superuser password is not specified" in proc.stderr


def test_python_stand_in_has_python_and_a_working_pip() -> None:
    # No index settings ship in the image (test_images_carry_no_host_settings.py): pip works, a venv can be
    # made, and installing as root is not refused as an "externally managed environment" (there is no index).
    proc = run(
        "docker", "run", "--rm", PYTHON_IMAGE, "sh", "-c",
        "python --version && pip --version >/dev/null && python -m venv /tmp/v && /tmp/v/bin/pip --version "
        "&& pip install --no-index --no-cache-dir six",
        timeout=300, check=False,
    )  # fmt: skip
    lines = proc.stdout.splitlines()
    assert lines and lines[0].startswith("Python 3.11."), proc.stderr
    assert any(line.startswith("pip ") for line in lines), proc.stdout
    assert "No matching distribution found for six" in proc.stderr, proc.stderr
    assert "externally-managed-environment" not in proc.stderr


def test_no_mirror_or_index_host_is_written_into_the_repository() -> None:
    hosts: set[str] = set()
    lib = REPO_ROOT / "stack" / "scripts" / "lib.sh"
    for fn in ("host_debian_mirror", "host_debian_security_mirror"):
        out = run("bash", "-c", f". {lib}; {fn}").stdout.strip()
        if out:
            hosts.add(urlparse(out).hostname or "")
    hosts.discard("")
    if not hosts:
        pytest.skip("the host's apt sources name no Debian mirror")
    for host in hosts:
        found = run(
            "git",
            "-C",
            str(REPO_ROOT),
            "grep",
            "-l",
            "-F",
            host,
            "--",
            "stack",
            "tests",
            "scripts",
            check=False,
        )
        assert found.stdout == "", f"{host} is written in {found.stdout.split()}"


def test_a_stand_in_built_by_an_older_script_is_rebuilt(tmp_path) -> None:
    """Version 1 stand-ins shipped the host's pip and apt settings: the script replaces them by itself."""
    image = run(
        "docker", "image", "inspect", "-f", '{{index .Config.Labels "org.edp.stand-in"}}', PYTHON_IMAGE
    )
    if image.stdout.strip() != "true":
        pytest.skip(f"{PYTHON_IMAGE} is the official image here, not a stand-in")
    prefix = f"edp-test-{uuid.uuid4().hex[:8]}"
    old, debian = f"{prefix}/python:3.11", f"{prefix}/debian:bookworm"
    (tmp_path / "Dockerfile").write_text(f"FROM {PYTHON_IMAGE}\nLABEL org.edp.stand-in-version=1\n")
    try:
        run("docker", "tag", DEBIAN_IMAGE, debian)
        run("env", "DOCKER_BUILDKIT=0", "docker", "build", "-q", "-t", old, str(tmp_path), timeout=300)
        proc = run(
            "env", f"EDP_LOCAL_IMAGE_PREFIX={prefix}", "bash", str(BUILD_BASE_IMAGES), "--local", "python",
            timeout=1800, check=False,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert f"building {old}" in proc.stderr
        label = run(
            "docker", "image", "inspect", "-f", '{{index .Config.Labels "org.edp.stand-in-version"}}', old
        )
        assert label.stdout.strip() == "2"
        # The current Debian stand-in was kept, not rebuilt.
        assert f"importing the root filesystem as {debian}" not in proc.stderr
    finally:
        run("docker", "image", "rm", old, debian, check=False)
