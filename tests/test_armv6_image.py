"""The linux/arm/v6 image, built and run here under qemu's ARM1176 (a Pi Zero W's CPU).

The base is Debian's armel userland (debootstrap), which an ARM1176 runs; qemu-arm is
registered with binfmt_misc for this module only and binfmt_misc is left as found.
Slow the first time on a machine (the armel root is built under emulation, then kept
in /var/tmp), and the image build runs pip under emulation each session.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import validate
from tests.mqtt_watch import Watcher, topic_is
from tests.peers.armv6 import (
    ARMV6_IMAGE_TAG,
    PLATFORM,
    BinfmtUnavailable,
    armv6_base_image,
    binfmt_state,
    build_armv6_image,
    qemu_arm_binfmt,
)
from tests.peers.broker import Broker
from tests.peers.dockerd import Dockerd
from tests.peers.images import offline_context
from tests.peers.net import wait_until

pytestmark = pytest.mark.docker
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ARM1176 = {"QEMU_CPU": "arm1176"}  # qemu emulates the Pi Zero's CPU, not its default


@pytest.fixture(scope="module")
def armv6_image(dockerd: Dockerd, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("armv6")
    before = binfmt_state()
    started = time.monotonic()
    try:
        with qemu_arm_binfmt():
            base = armv6_base_image(dockerd.client, workdir / "debootstrap.log")
            base_s = time.monotonic() - started
            context = offline_context(workdir, pure_python=True)
            build_s = build_armv6_image(dockerd.client, context, base)
            size_mb = dockerd.client.images.get(ARMV6_IMAGE_TAG).attrs["Size"] / 1e6
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / "armv6.md").write_text(
                f"linux/arm/v6 image on Debian bookworm armel: {size_mb:.0f} MB; "
                f"base ready in {base_s:.0f} s, Dockerfile.armhf built in {build_s:.0f} s "
                "(pip under emulation)\n"
            )
            yield ARMV6_IMAGE_TAG
    except BinfmtUnavailable as exc:
        pytest.skip(f"qemu-arm cannot be registered here: {exc}")
    assert binfmt_state() == before, "binfmt_misc not left as it was found"


def run(client: Any, image: str, command: list[str], **kwargs: Any) -> str:
    out = client.containers.run(
        image, command, platform=PLATFORM, environment=ARM1176, remove=True, **kwargs
    )
    return str(out.decode())


def test_the_image_is_arm_v6_and_runs_on_an_arm1176(dockerd: Dockerd, armv6_image: str) -> None:
    attrs = dockerd.client.images.get(armv6_image).attrs
    assert (attrs["Os"], attrs["Architecture"], attrs.get("Variant")) == ("linux", "arm", "v6")
    assert run(dockerd.client, armv6_image, ["uname", "-m"]).strip() == "armv6l"
    code = "import platform, psutil; print(platform.machine(), psutil.cpu_count())"
    assert run(dockerd.client, armv6_image, ["python3", "-c", code]).split()[0] == "armv6l"


def test_once_prints_a_valid_snapshot(dockerd: Dockerd, armv6_image: str) -> None:
    out = run(
        dockerd.client,
        armv6_image,
        ["swarmgauge-agent", "--once", "--docker-host", "unix:///var/run/docker.sock"],
        user="root",
        volumes={str(dockerd.socket): {"bind": "/var/run/docker.sock", "mode": "rw"}},
    )
    node_state = json.loads(out.splitlines()[0])
    validate("node", node_state)
    assert node_state["docker"]["ok"] is True, node_state["docker"]
    assert node_state["role"] == "manager"


def test_it_turns_healthy_and_publishes(dockerd: Dockerd, armv6_image: str, broker: Broker) -> None:
    container = dockerd.client.containers.run(
        armv6_image,
        detach=True,
        platform=PLATFORM,
        network_mode="host",
        environment={
            **ARM1176,
            "SWARMGAUGE_BROKER": broker.url,
            "SWARMGAUGE_NODE_NAME": "zero",
            "SWARMGAUGE_DOCKER_HOST": "none",
            "SWARMGAUGE_INTERVAL": "2",
        },
    )
    try:
        with Watcher(broker.host, broker.port, "swarmgauge/node/zero/#") as watch:
            state = watch.wait_for(topic_is("swarmgauge/node/zero/state"), 90)
            assert state is not None, container.logs()[-2000:]
            assert watch.invalid == []

        def health() -> str:
            container.reload()
            return str(container.attrs["State"]["Health"]["Status"])

        assert wait_until(lambda: health() == "healthy", 120, 2), (
            health(),
            container.attrs["State"]["Health"].get("Log", [])[-2:],
        )
    finally:
        container.remove(force=True)
