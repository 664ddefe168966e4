"""Lab 3's offline route: both images from Debian's packages and a local wheelhouse,
built by workshop/offline-images on the test dockerd, then run."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import clean_env, validate
from tests.peers.dockerd import Dockerd
from tests.peers.images import base_image, repo_copy

pytestmark = pytest.mark.docker
IMAGE = "swarmgauge-test/offline:latest"
BROKER = "swarmgauge-test/offline-broker:latest"


def test_the_offline_route_builds_both_images(dockerd: Dockerd, tmp_path: Path) -> None:
    context = repo_copy(tmp_path)  # the script writes armhf/wheelhouse where it lives
    env = clean_env(
        DOCKER_HOST=dockerd.base_url,
        BASE=base_image(dockerd.client),  # the lab's debootstrap step, made by the tests
        IMAGE=IMAGE,
        BROKER=BROKER,
        PATH=os.environ["PATH"],
    )
    done = subprocess.run(
        [str(context / "workshop" / "offline-images")],
        env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "done:" in done.stderr
    once = dockerd.client.containers.run(
        IMAGE, ["swarmgauge-agent", "--once", "--docker-host", "none", "--broker", "none"],
        remove=True,
    )  # fmt: skip
    validate("node", json.loads(once.decode().splitlines()[0]))
    # what the stack's broker-start needs: sh, mosquitto 2, mosquitto_passwd
    probe = "mosquitto -h | head -n 1; command -v mosquitto_passwd"
    out = dockerd.client.containers.run(BROKER, ["sh", "-c", probe], remove=True).decode()
    assert out.startswith("mosquitto version 2.") and "mosquitto_passwd" in out, out
