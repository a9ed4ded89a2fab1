"""No build-host setting ships in any image.

The base images and the stack's image are searched layer by layer (`docker save`: a file deleted by a later
layer still counts), in their history (`docker history --no-trunc`) and their configuration (`docker image
inspect`) for pip settings, index URLs, the host's CA bundle or local CAs, and apt proxy or mirror settings.
The builds get those in their build stages only.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import tarfile
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.support.docker_engine import DEBIAN_IMAGE, POSTGRES_IMAGE, PYTHON_IMAGE, REPO_ROOT, ComposeStack

LIB = REPO_ROOT / "stack" / "scripts" / "lib.sh"
# Paths where a pip or apt setting of the build would live.
FORBIDDEN_PATHS = re.compile(
    r"^(etc/edp-pip|etc/edp-apt|etc/pip\.conf|etc/xdg/pip|root/\.pip|root/\.config/pip|"
    r"etc/apt/apt\.conf\.d/[^/]*proxy)(/|$)"
)
FORBIDDEN_ENV = re.compile(
    r"^(PIP_CONFIG_FILE|PIP_INDEX_URL|PIP_EXTRA_INDEX_URL|PIP_CERT|PIP_TRUSTED_HOST|"
    r"PIP_FIND_LINKS|REQUESTS_CA_BUNDLE|SSL_CERT_FILE|https?_proxy|HTTPS?_PROXY)="
)
# Files Docker provides at run time; a non-empty one in a layer came from the build host.
HOST_COPIES = {"etc/resolv.conf", "etc/hostname"}
MAX_SCANNED_FILE = 64 << 20


def sh(command: str) -> str:
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60).stdout.strip()


def host_needles() -> dict[bytes, str]:
    """Strings of the build host's settings that must not appear in any image file -> what they are."""
    needles: dict[bytes, str] = {}
    pip = "python3 -m pip config get"
    for key in ("global.index-url", "global.extra-index-url"):
        for url in sh(f"{pip} {key} 2>/dev/null").split():
            if url.startswith(("http://", "https://")):
                needles[url.encode()] = f"pip {key}"
    for line in sh("apt-config dump 2>/dev/null | grep -E '^Acquire::(http|https)::Proxy '").splitlines():
        needles[b"Acquire::"] = "an apt proxy setting"
        value = line.split('"')[1] if '"' in line else ""
        if value and value.upper() != "DIRECT":
            needles[value.encode()] = "the host's apt proxy"
    # The host's Debian mirrors, unless they are Debian's own default (shipped, as in the official images).
    default = urlparse(sh(f". {LIB}; debian_default_mirror")).hostname
    for fn in ("host_debian_mirror", "host_debian_security_mirror"):
        host = urlparse(sh(f". {LIB}; {fn}")).hostname
        if host and host != default:
            needles[host.encode()] = f"the host's Debian mirror ({fn})"
    # Local CAs (e.g. a proxy's): the first line of each certificate's body is distinctive enough.
    for crt in sorted(Path("/usr/local/share/ca-certificates").glob("**/*.crt")):
        body = [
            ln for ln in crt.read_text(errors="replace").splitlines() if ln and not ln.startswith("-----")
        ]
        if body:
            needles[body[0].encode()] = f"the local CA {crt.name}"
    return needles


def host_ca_bundle_digest() -> str | None:
    cert = sh("python3 -m pip config get global.cert 2>/dev/null") or "/etc/ssl/certs/ca-certificates.crt"
    path = Path(cert)
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def image_findings(image: str, needles: dict[bytes, str], bundle_digest: str | None) -> list[str]:
    findings: list[str] = []
    inspect = json.loads(
        subprocess.run(
            ["docker", "image", "inspect", image], capture_output=True, text=True, check=True, timeout=60
        ).stdout
    )[0]
    for var in inspect["Config"].get("Env") or []:
        if FORBIDDEN_ENV.match(var):
            findings.append(f"ENV {var}")
    history = subprocess.run(
        ["docker", "history", "--no-trunc", "--format", "{{.CreatedBy}}", image],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    findings += [f"history names {what}" for needle, what in needles.items() if needle.decode() in history]
    findings += _layer_findings(image, needles, bundle_digest)
    return findings


def _layer_findings(image: str, needles: dict[bytes, str], bundle_digest: str | None) -> list[str]:
    findings: list[str] = []
    save = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
    assert save.stdout is not None
    with tarfile.open(fileobj=save.stdout, mode="r|") as outer:
        for member in outer:
            if not (member.isfile() and member.name.endswith("layer.tar")):
                continue
            layer = outer.extractfile(member)
            assert layer is not None
            with tarfile.open(fileobj=layer, mode="r|") as files:
                for entry in files:
                    name = entry.name.removeprefix("./")
                    if FORBIDDEN_PATHS.match(name):
                        findings.append(f"file {name}")
                    if name in HOST_COPIES and entry.isfile() and entry.size > 0:
                        findings.append(f"file {name} is the build host's (debootstrap copies it)")
                    if not entry.isfile() or entry.size > MAX_SCANNED_FILE:
                        continue
                    handle = files.extractfile(entry)
                    data = handle.read() if handle else b""
                    if bundle_digest and hashlib.sha256(data).hexdigest() == bundle_digest:
                        findings.append(f"file {name} is a copy of the host's CA bundle")
                    findings += [f"file {name} holds {what}" for n, what in needles.items() if n in data]
    save.wait(timeout=60)
    return findings


@pytest.fixture(scope="module")
def needles() -> dict[bytes, str]:
    return host_needles()


@pytest.mark.parametrize("image", [DEBIAN_IMAGE, POSTGRES_IMAGE, PYTHON_IMAGE])
def test_base_image_carries_no_host_setting(image: str, needles: dict[bytes, str]) -> None:
    assert image_findings(image, needles, host_ca_bundle_digest()) == []


def test_stack_image_carries_no_host_setting(compose_stack: ComposeStack, needles: dict[bytes, str]) -> None:
    image = compose_stack.env["EDP_IMAGE"]
    assert image_findings(image, needles, host_ca_bundle_digest()) == []
    # It still has what the build installed: the locked packages, offline.
    proc = subprocess.run(
        ["docker", "run", "--rm", "--entrypoint", "python", image, "-c",
         "import dagster, dagster_docker, watchfiles; print(dagster.__version__)"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.stdout.strip() == "1.13.27", proc.stderr
