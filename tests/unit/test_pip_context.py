"""stack/scripts/lib.sh write_pip_context: the build host's pip settings (an index URL may carry a token) are
written for the image's build stage readable by their owner only, however the folder held them before."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

LIB = Path(__file__).resolve().parents[2] / "stack" / "scripts" / "lib.sh"
SECRET_INDEX = "https://builder:s3cret-token@index.example.invalid/simple"


def write_context(folder: Path, cert: Path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(folder.parent),
        "PIP_INDEX_URL": SECRET_INDEX,
        "PIP_CERT": str(cert),
        "PIP_CONFIG_FILE": os.devnull,
    }
    subprocess.run(
        ["bash", "-c", f'umask 022; . "{LIB}"; write_pip_context "{folder}"'], env=env, check=True, timeout=60
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_pip_settings_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    cert = tmp_path / "host-ca.crt"
    cert.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    folder = tmp_path / "pip"
    write_context(folder, cert)
    conf = folder / "pip.conf"
    assert SECRET_INDEX in conf.read_text()
    assert mode(conf) == 0o600
    assert mode(folder / "ca.crt") == 0o600
    assert mode(folder) & 0o077 == 0


def test_files_left_world_readable_by_an_earlier_version_are_closed(tmp_path: Path) -> None:
    cert = tmp_path / "host-ca.crt"
    cert.write_text("ca\n")
    folder = tmp_path / "pip"
    write_context(folder, cert)
    for path in (folder, folder / "pip.conf", folder / "ca.crt"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    write_context(folder, cert)  # same content: the files are kept, their mode is not
    assert mode(folder / "pip.conf") == 0o600
    assert mode(folder / "ca.crt") == 0o600
    assert mode(folder) & 0o077 == 0
