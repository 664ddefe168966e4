"""Images for the tests, made here: Docker Hub is out of reach.

A Debian bookworm root with python3 (debootstrap from Debian's own packages) is
imported as the base, and swarmgauge's Dockerfile.armhf is built on it (x86 here;
the file is the one that builds linux/arm/v6 on Alpine). The root filesystem is
kept in /var/tmp between runs on the same machine.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
from pathlib import Path
from typing import Any

BASE_TAG = "swarmgauge-test/python:bookworm"
IMAGE_TAG = "swarmgauge-test/swarmgauge:latest"
BROKER_TAG = "swarmgauge-test/mosquitto:latest"
ROOTFS_TAR = Path("/var/tmp/swarmgauge-test-bookworm-python.tar")
REPO = Path(__file__).resolve().parents[2]


def debian_mirror() -> str:
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    if sources.exists():
        for line in sources.read_text().splitlines():
            if line.startswith("URIs:") and "security" not in line:
                return line.split()[1]
    return "http://deb.debian.org/debian"


def make_rootfs_tar() -> Path:
    if ROOTFS_TAR.exists():
        return ROOTFS_TAR
    root = empty_root(Path("/var/tmp/swarmgauge-test-rootfs"))
    subprocess.run(
        [
            "debootstrap",
            "--variant=minbase",
            "--include=python3,python3-venv,python3-pip,ca-certificates",
            "bookworm",
            str(root),
            debian_mirror(),
        ],
        check=True,
        capture_output=True,
    )
    return tar_root(root, ROOTFS_TAR)


def empty_root(root: Path) -> Path:
    """root, made empty, for debootstrap (which must be installed)."""
    if shutil.which("debootstrap") is None:
        raise RuntimeError("debootstrap not installed (apt-get install debootstrap)")
    shutil.rmtree(root, ignore_errors=True)
    return root


def tar_root(root: Path, tar: Path) -> Path:
    """A debootstrapped root, without apt's caches, as the tar kept between runs (written
    whole or not at all); the root directory removed."""
    for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for f in (root / cache).glob("*"):
            if f.is_file():
                f.unlink()
    partial = tar.with_suffix(".partial")
    subprocess.run(["tar", "-C", str(root), "-cf", str(partial), "."], check=True)
    partial.rename(tar)
    shutil.rmtree(root, ignore_errors=True)
    return tar


def has_image(client: Any, tag: str) -> bool:
    return bool(client.api.images(name=tag))


def base_image(client: Any) -> str:
    if not has_image(client, BASE_TAG):
        with make_rootfs_tar().open("rb") as f:
            client.api.import_image_from_data(
                f.read(), repository=BASE_TAG.split(":")[0], tag="bookworm"
            )
    return BASE_TAG


def repo_copy(workdir: Path) -> Path:
    """The repository's files (tracked and new, not ignored) copied to workdir/context."""
    context = workdir / "context"
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    for name in files:
        if (REPO / name).is_file():
            (context / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, context / name)
    return context


def offline_context(workdir: Path, pure_python: bool = False) -> Path:
    """A copy of the repository with armhf/wheelhouse filled by the host's pip.

    Containers here cannot check the registry's TLS certificate the way the host
    can, so the build takes its packages from a wheelhouse, as a workshop without
    internet would. pure_python: only py3-none-any wheels, for another CPU (the arm/v6
    build), and no psutil (its base has Debian's) nor the Pi extras.
    """
    context = repo_copy(workdir)
    wheelhouse = context / "armhf" / "wheelhouse"
    wanted = ["setuptools>=61", "wheel"]
    if pure_python:
        project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
        wanted += [d for d in project["dependencies"] if not d.startswith("psutil")]
        where = ["--only-binary=:all:", "--platform", "any", "--implementation", "py",
                 "--python-version", "3.11"]  # fmt: skip
    else:
        wanted.append(f"{context}[pi]")
        where = []
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--dest", str(wheelhouse),
         *where, *wanted],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return context


def build(
    client: Any,
    tag: str,
    dockerfile: str,
    path: Path,
    buildargs: dict[str, str],
    platform: str | None = None,
) -> float:
    """Build with the host network (pip and apt reach their registries); seconds taken."""
    import docker.errors

    started = time.monotonic()
    try:
        client.images.build(
            path=str(path),
            dockerfile=dockerfile,
            tag=tag,
            buildargs=buildargs,
            platform=platform,
            network_mode="host",
            rm=True,
            forcerm=True,
        )
    except docker.errors.BuildError as exc:
        log = "".join(c.get("stream", "") for c in exc.build_log if isinstance(c, dict))
        raise RuntimeError(f"{exc.msg}\n--- build log (end) ---\n{log[-3000:]}") from None
    return time.monotonic() - started


def broker_image(client: Any) -> str:
    """mosquitto from Debian's package on the local base, for the stack."""
    if not has_image(client, BROKER_TAG):
        dockerfile = (
            f"FROM {base_image(client)}\n"
            "RUN apt-get update && apt-get install -y --no-install-recommends mosquitto "
            "&& rm -rf /var/lib/apt/lists/*\n"
            'CMD ["mosquitto", "-c", "/mosquitto/config/mosquitto.conf"]\n'
        )
        context = io.BytesIO()
        with tarfile.open(fileobj=context, mode="w") as tar:
            info = tarfile.TarInfo("Dockerfile")
            info.size = len(dockerfile)
            tar.addfile(info, io.BytesIO(dockerfile.encode()))
        context.seek(0)
        client.images.build(
            fileobj=context, custom_context=True, tag=BROKER_TAG, network_mode="host", rm=True
        )
    return BROKER_TAG
