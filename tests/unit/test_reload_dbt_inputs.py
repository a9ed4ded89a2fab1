"""The dbt input hash that decides whether a reload parses (etl_pipeline/reload/dbt_inputs.py)."""

from __future__ import annotations

from pathlib import Path

from edp_platform.dbt.inputs import (
    inputs_hash,
    read_stored_hash,
    referenced_env_vars,
    write_stored_hash,
)

VERSIONS = {"dbt-core": "1.11.0", "dbt-postgres": "1.11.0"}


def make_project(root: Path) -> Path:
    (root / "models").mkdir(parents=True)
    (root / "macros").mkdir()
    (root / "dbt_project.yml").write_text("name: retail\nprofile: retail\n")
    (root / "profiles.yml").write_text(
        "retail:\n  outputs:\n    prod:\n      host: \"{{ env_var('PG_HOST') }}\"\n"
    )
    (root / "models" / "a.sql").write_text("select 1 as a\n")
    (root / "macros" / "m.sql").write_text("{% macro m() %}1{% endmacro %}\n")
    return root


def h(root: Path, environ: dict[str, str] | None = None, versions: dict[str, str] = VERSIONS) -> str:
    return inputs_hash(root, root, environ=environ or {"PG_HOST": "db"}, versions=versions)


def test_same_inputs_same_hash(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    assert h(root) == h(root)


def test_build_output_caches_and_editor_files_do_not_count(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    before = h(root)
    (root / "target").mkdir()
    (root / "target" / "manifest.json").write_text("{}")
    (root / "logs").mkdir()
    (root / "logs" / "dbt.log").write_text("x")
    (root / "models" / ".a.sql.swp").write_text("swap")
    (root / "models" / "a.sql~").write_text("backup")
    assert h(root) == before


def test_each_kind_of_input_changes_the_hash(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    seen = {h(root)}
    (root / "models" / "a.sql").write_text("select 2 as a\n")  # a model's content
    seen.add(h(root))
    (root / "models" / "b.sql").write_text("select 1 as b\n")  # a new model
    seen.add(h(root))
    (root / "macros" / "m.sql").write_text("{% macro m() %}2{% endmacro %}\n")  # a macro
    seen.add(h(root))
    (root / "dbt_project.yml").write_text("name: retail\nprofile: retail\nvars: {x: 1}\n")
    seen.add(h(root))
    (root / "profiles.yml").write_text((root / "profiles.yml").read_text() + "  target: prod\n")
    seen.add(h(root))
    seen.add(h(root, environ={"PG_HOST": "elsewhere"}))  # an env var a project file reads
    seen.add(h(root, environ={"PG_HOST": "db", "DBT_TARGET": "dev"}))  # any DBT_* variable
    seen.add(h(root, versions={**VERSIONS, "dbt-core": "1.11.1"}))  # the dbt version
    assert len(seen) == 9


def test_renaming_a_model_changes_the_hash(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    before = h(root)
    (root / "models" / "a.sql").rename(root / "models" / "renamed.sql")
    assert h(root) != before


def test_variables_dbt_does_not_read_do_not_count(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    assert h(root, environ={"PG_HOST": "db"}) == h(
        root, environ={"PG_HOST": "db", "HOME": "/x", "DBT_LOG_PATH": "/l"}
    )


def test_profiles_outside_the_project_count(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    profiles_dir = tmp_path / "profiles"
    profiles_dir.mkdir()
    (profiles_dir / "profiles.yml").write_text("a: 1\n")
    one = inputs_hash(root, profiles_dir, environ={}, versions=VERSIONS)
    (profiles_dir / "profiles.yml").write_text("a: 2\n")
    assert inputs_hash(root, profiles_dir, environ={}, versions=VERSIONS) != one


def test_env_var_calls_are_found_with_either_quote() -> None:
    texts = ["{{ env_var('A') }} {{ env_var( \"B_2\" , 'default') }}", "env_var('not a name')"]
    assert referenced_env_vars(texts) == {"A", "B_2"}


def test_stored_hash_round_trip(tmp_path: Path) -> None:
    assert read_stored_hash(tmp_path) is None
    write_stored_hash(tmp_path, "abc")
    assert read_stored_hash(tmp_path) == "abc"


# ---- what the hash never does: block, exhaust memory, or fail on a file name -------------------------------

import os  # noqa: E402
import threading  # noqa: E402

import pytest  # noqa: E402
from edp_platform.dbt import inputs  # noqa: E402


def hashed_within(root: Path, seconds: float = 30.0) -> str:
    """The hash computed in a thread that must finish (a blocked read would hang the reload for good)."""
    result: list[str] = []
    thread = threading.Thread(target=lambda: result.append(h(root)), daemon=True)
    thread.start()
    thread.join(seconds)
    assert result, "the input hash blocked"
    return result[0]


def test_a_fifo_is_not_read(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    before = h(root)
    os.mkfifo(root / "models" / "pipe.sql")
    assert hashed_within(root) == before


def test_a_link_to_a_device_is_not_read(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    before = h(root)
    (root / "models" / "zero.sql").symlink_to("/dev/zero")
    assert hashed_within(root) == before


def test_a_huge_file_is_hashed_by_its_size_and_time_past_the_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project(tmp_path / "p")
    monkeypatch.setattr(inputs, "CONTENT_CAP_BYTES", 1024)
    seed = root / "seeds" / "big.csv"
    seed.parent.mkdir()
    with open(seed, "wb") as f:  # sparse: a multi-GB seed that costs no disk
        f.truncate(3 << 30)
    reads: list[int] = []
    real_read = os.read

    def counting_read(fd: int, n: int) -> bytes:
        data = real_read(fd, n)
        reads.append(len(data))
        return data

    monkeypatch.setattr(os, "read", counting_read)
    first = h(root)
    assert sum(reads) < 1 << 20  # the 3 GB file was not read
    assert max(reads, default=0) <= inputs.CHUNK_BYTES
    with open(seed, "r+b") as f:
        f.truncate(3 << 30 | 1)
    assert h(root) != first  # a change to it still counts


def test_files_are_read_in_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(tmp_path / "p")
    (root / "seeds").mkdir()
    (root / "seeds" / "s.csv").write_bytes(b"a,b\n" * (inputs.CHUNK_BYTES // 2))
    sizes: list[int] = []
    real_read = os.read

    def counting_read(fd: int, n: int) -> bytes:
        sizes.append(n)
        return real_read(fd, n)

    monkeypatch.setattr(os, "read", counting_read)
    h(root)
    assert sizes and max(sizes) <= inputs.CHUNK_BYTES


def test_a_file_name_that_is_not_utf8_is_hashed_by_its_bytes(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    before = h(root)
    name = b"caf\xe9.sql"  # Latin-1, not UTF-8
    with open(os.path.join(os.fsencode(root / "models"), name), "wb") as f:
        f.write(b"select 1 as x\n")
    after = h(root)
    assert after != before
    os.rename(
        os.path.join(os.fsencode(root / "models"), name),
        os.path.join(os.fsencode(root / "models"), b"cafe.sql"),
    )
    assert h(root) not in {before, after}
