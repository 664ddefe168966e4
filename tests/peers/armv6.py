"""A linux/arm/v6 image made here: qemu-arm through binfmt_misc, Debian's armel userland
(ARMv5TE code, which a Pi Zero's ARM1176 runs) from debootstrap, and Dockerfile.armhf
built on it with --platform linux/arm/v6 by the classic builder (Debian's docker.io has
no buildx). The root filesystem is kept in /var/tmp between runs on the same machine.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.peers.images import build, debian_mirror, empty_root, has_image, tar_root

BINFMT = Path("/proc/sys/fs/binfmt_misc")
QEMU_ARM_CONF = Path("/usr/lib/binfmt.d/qemu-arm.conf")  # Debian's, from qemu-user-static
ENTRY = "qemu-arm"
ARMEL_TAR = Path("/var/tmp/swarmgauge-test-bookworm-armel.tar")
ARMV6_BASE_TAG = "swarmgauge-test/python-armel:bookworm"
ARMV6_IMAGE_TAG = "swarmgauge-test/swarmgauge-armv6:latest"
PLATFORM = "linux/arm/v6"
# the packages the agent needs that want a compiler, from Debian's armel build instead
ARMEL_PACKAGES = "python3,python3-venv,python3-pip,python3-psutil,ca-certificates"


class BinfmtUnavailable(RuntimeError):
    pass


def _registration() -> str:
    """Debian's qemu-arm line, with flag F: the kernel opens the interpreter now, so
    containers (other mount namespaces) can use it too."""
    if not QEMU_ARM_CONF.exists():
        raise BinfmtUnavailable(f"{QEMU_ARM_CONF} missing (apt-get install qemu-user-static)")
    line = next(ln for ln in QEMU_ARM_CONF.read_text().splitlines() if ln.startswith(f":{ENTRY}:"))
    fields = line.split(":")
    fields[-1] = "".join(sorted(set(fields[-1]) | {"F"}))
    return ":".join(fields)


def _entry_line(text: str) -> str:
    """The registration line that recreates an entry from its /proc file."""
    info: dict[str, str] = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        info[key] = value
    magic = "".join(f"\\x{info['magic'][i : i + 2]}" for i in range(0, len(info["magic"]), 2))
    mask = "".join(f"\\x{info['mask'][i : i + 2]}" for i in range(0, len(info.get("mask", "")), 2))
    flags = info.get("flags:", "").strip()  # "flags: POF" splits as "flags:", "POF"
    return f":{ENTRY}:M:{info.get('offset', '0')}:{magic}:{mask}:{info['interpreter']}:{flags}"


@contextmanager
def qemu_arm_binfmt() -> Iterator[None]:
    """qemu-arm registered with binfmt_misc while inside; binfmt_misc left exactly as
    found after (unmounted if it was, an earlier qemu-arm entry put back)."""
    if not Path("/proc/sys/fs").exists():
        raise BinfmtUnavailable("no /proc/sys/fs")
    mounted_here = False
    if not (BINFMT / "register").exists():
        done = subprocess.run(
            ["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT)], capture_output=True
        )
        if done.returncode != 0:
            raise BinfmtUnavailable(f"cannot mount binfmt_misc: {done.stderr.decode().strip()}")
        mounted_here = True
    entry = BINFMT / ENTRY
    before = entry.read_text() if entry.exists() else None
    try:
        if before is None or "F" not in before.split("flags:", 1)[-1].splitlines()[0]:
            if before is not None:
                entry.write_text("-1")
            (BINFMT / "register").write_text(_registration())
        yield
    finally:
        if entry.exists():
            entry.write_text("-1")
        if before is not None:
            (BINFMT / "register").write_text(_entry_line(before))
            if "disabled" in before.splitlines()[0]:
                entry.write_text("0")
        if mounted_here:
            subprocess.run(["umount", str(BINFMT)], check=True)


def binfmt_state() -> str:
    """What binfmt_misc holds now, to check it is left as found."""
    if not (BINFMT / "register").exists():
        return "not mounted"
    entry = BINFMT / ENTRY
    return entry.read_text() if entry.exists() else "no qemu-arm"


def make_armel_rootfs_tar(log: Path) -> Path:
    """Debian bookworm's armel userland with python3 and psutil: debootstrap's first
    stage here, its second stage under qemu (inside qemu_arm_binfmt())."""
    if ARMEL_TAR.exists():
        return ARMEL_TAR
    root = empty_root(Path("/var/tmp/swarmgauge-test-armel-rootfs"))
    with log.open("ab") as out:
        subprocess.run(
            ["debootstrap", "--arch=armel", "--foreign", "--variant=minbase",
             f"--include={ARMEL_PACKAGES}", "bookworm", str(root), debian_mirror()],
            check=True, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        subprocess.run(
            ["chroot", str(root), "/debootstrap/debootstrap", "--second-stage"],
            check=True, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    return tar_root(root, ARMEL_TAR)


def armv6_base_image(client: Any, log: Path) -> str:
    """The armel root as an image labelled linux/arm/v6 (`docker import --platform`
    does not set the architecture; a classic build FROM scratch does)."""
    if not has_image(client, ARMV6_BASE_TAG):
        tar = make_armel_rootfs_tar(log)
        context = io.BytesIO()
        with tarfile.open(fileobj=context, mode="w") as t:
            dockerfile = b'FROM scratch\nADD rootfs.tar /\nCMD ["python3"]\n'
            info = tarfile.TarInfo("Dockerfile")
            info.size = len(dockerfile)
            t.addfile(info, io.BytesIO(dockerfile))
            t.add(str(tar), arcname="rootfs.tar")
        context.seek(0)
        client.images.build(
            fileobj=context, custom_context=True, tag=ARMV6_BASE_TAG, platform=PLATFORM, rm=True
        )
    return ARMV6_BASE_TAG


def build_armv6_image(client: Any, context: Path, base: str) -> float:
    """Dockerfile.armhf for linux/arm/v6 on the armel base; seconds taken."""
    args = {"BASE": base, "EXTRAS": ""}
    return build(client, ARMV6_IMAGE_TAG, "Dockerfile.armhf", context, args, PLATFORM)
