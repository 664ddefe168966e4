"""The workshop's labs, as a participant without hardware follows them.

Every shell block is marked: `sh run` blocks are executed, lab by lab in order and
in one shell per lab, against the test swarm (DOCKER_HOST) with the image built by
the tests; `sh pi` and `sh internet` blocks need a Raspberry Pi or the internet, and
`sh follow` blocks run until stopped (in a second terminal): those are only checked
for syntax. A shell block without a mark fails the test.

Lab 4's needle is held to what the issue promised a participant: near 0 before the
load, then green, amber and red as it scales, a dip while the rolling update
replaces the tasks, near 0 again after. Lab 6's clean-up is held to leaving nothing.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import clean_env
from tests.peers.dockerd import Dockerd
from tests.peers.images import broker_image
from tests.peers.net import free_port

WORKSHOP = Path(__file__).resolve().parents[1] / "workshop"
LAB_IMAGE = "swarmgauge-lab/swarmgauge:latest"
LAB_BROKER_IMAGE = "swarmgauge-lab/mosquitto:latest"
STACK_LABEL = "com.docker.stack.namespace=swarmgauge"
LABS = sorted(WORKSHOP.glob("lab*.md"))
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```", re.M | re.S)
MARKS = {"run", "pi", "internet", "follow"}
# what a participant should see, by lab: the labs promise these (regular expressions)
EXPECTED = {
    "lab1-blinkt": r"leds: ",
    "lab2-swarm": r"map\[gauge:yes\]",
    "lab3-deploy": r'"schema":1',
    # every load task up (0/4 must fail); the needle's numbers: see needle_says
    "lab4-strain": r"\bload\s+replicated\s+4/4\b",
    # the agents seen by a script, the gauge's /metrics, the cluster device's 6 entities
    "lab5-subscribe": r": strain (.|\n)*swarmgauge_cluster_strain_ratio (.|\n)*\n6\n",
}


def shell_blocks(path: Path) -> list[tuple[str, str]]:
    """(mark, code) for every sh/bash block of a lab, in order."""
    blocks = []
    for info, code in FENCE.findall(path.read_text()):
        words = info.split()
        if words and words[0] in ("sh", "bash", "shell", "console"):
            blocks.append((words[1] if len(words) > 1 else "", code))
    return blocks


def test_there_are_labs_0_to_6_and_an_index() -> None:
    assert [p.name[:4] for p in LABS] == [f"lab{i}" for i in range(7)]
    index = (WORKSHOP / "README.md").read_text()
    for lab in LABS:
        assert f"({lab.name})" in index, f"{lab.name} is not in workshop/README.md"


@pytest.mark.parametrize("lab", LABS, ids=[p.stem for p in LABS])
def test_every_shell_block_is_marked_and_parses(lab: Path) -> None:
    for mark, code in shell_blocks(lab):
        assert mark in MARKS, f"{lab.name}: a shell block marked {mark!r}, not one of {MARKS}"
        result = subprocess.run(["bash", "-n"], input=code, capture_output=True, text=True)
        assert result.returncode == 0, f"{lab.name}: {result.stderr}\n{code}"


NEEDLE = re.compile(
    r"^\d\d:\d\d:\d\d  \[[#.]{20}\] +(?P<pct>\d+)% (?P<level>green|amber|red) +"
    r"(?P<running>\d+) of (?P<desired>\d+) tasks running(?P<rest>.*)$",
    re.M,
)


def needle_says(stdout: str) -> list[tuple[int, str, int, int, bool]]:
    """workshop/needle's lines: (strain %, colour, running, desired, alarm)."""
    return [
        (int(m["pct"]), m["level"], int(m["running"]), int(m["desired"]), "ALARM" in m["rest"])
        for m in NEEDLE.finditer(stdout)
    ]


def check_the_needle(stdout: str) -> None:
    """Lab 4 on a one-node Swarm, capacity 4: 0, 1, 2, 4 load tasks, an update, none."""
    lines = needle_says(stdout)
    assert lines, f"no needle lines in\n{stdout}"

    def last(tasks: int) -> tuple[int, str, int, int, bool]:
        found = [line for line in lines if line[2:4] == (tasks, tasks)]
        assert found, f"the needle never showed {tasks} of {tasks} tasks:\n{stdout}"
        return found[-1]

    loaded = next(i for i, line in enumerate(lines) if line[3] > 0)
    before = lines[loaded - 1] if loaded else None  # what the needle settled on, unloaded
    assert before and before[2:4] == (0, 0) and before[0] < 50, f"not near 0 first: {before}"
    assert last(1)[0] >= 25, last(1)  # one task of four: a quarter at least
    assert last(2)[0] >= 50 and last(2)[1] in ("amber", "red"), last(2)
    assert last(4)[:2] == (100, "red") and last(4)[4], f"4 tasks: red and the alarm {last(4)}"
    # the rolling update: a task missing at a time, and the needle dips with it
    dips = [line for line in lines if line[2:4] == (3, 4) and line[0] < 100]
    assert dips, f"no dip during the rolling update:\n{stdout}"
    end = lines[-1]
    assert end[2:4] == (0, 0) and end[0] < 50, f"not back near 0 after the clean-up: {end}"


def check_nothing_is_left(swarm: Dockerd, env: dict[str, str], ports: list[int]) -> None:
    """What lab 6's clean-up promises: no stack, no volume, no image, no Swarm."""
    client = swarm.client
    assert client.info()["Swarm"]["LocalNodeState"] == "inactive"
    assert client.containers.list(all=True, filters={"label": STACK_LABEL}) == []
    assert [v.name for v in client.volumes.list() if v.name.startswith("swarmgauge")] == []
    for tag in (env["SWARMGAUGE_IMAGE"], env["SWARMGAUGE_BROKER_IMAGE"]):
        assert client.images.list(name=tag) == [], f"{tag} is left"
    dangling = {"dangling": True, "label": "org.swarmgauge.workshop"}
    assert client.images.list(filters=dangling) == [], "the workshop's untagged images are left"
    for port in ports:  # the broker's and the gauge's published ports: closed
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still answers"


@pytest.mark.docker
def test_the_labs_run_as_written(swarm: Dockerd, image: str, tmp_path: Path) -> None:
    venv_bin = str(Path(sys.executable).parent)
    # the labs get tags of their own: lab 6 removes them, and the session keeps its images
    for source, tag in ((image, LAB_IMAGE), (broker_image(swarm.client), LAB_BROKER_IMAGE)):
        swarm.client.images.get(source).tag(tag)
    ports = [free_port(), free_port()]
    env = clean_env(
        DOCKER_HOST=swarm.base_url,
        SWARMGAUGE_IMAGE=LAB_IMAGE,
        SWARMGAUGE_BROKER_IMAGE=LAB_BROKER_IMAGE,
        SWARMGAUGE_BROKER_PORT=str(ports[0]),
        SWARMGAUGE_GAUGE_PORT=str(ports[1]),
        SWARMGAUGE_DOCKER_SOCKET=str(swarm.socket),
        PATH=f"{venv_bin}:{os.environ['PATH']}",
    )
    try:
        for lab in LABS:
            script = "\n".join(code for mark, code in shell_blocks(lab) if mark == "run")
            if not script:
                continue
            result = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", script],
                cwd=WORKSHOP.parent,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            (tmp_path / f"{lab.stem}.log").write_text(result.stdout + result.stderr)
            assert result.returncode == 0, f"{lab.name} failed:\n{result.stdout}\n{result.stderr}"
            expected = EXPECTED.get(lab.stem, "")
            assert re.search(expected, result.stdout), (
                f"{lab.name}: no {expected!r} in\n{result.stdout}"
            )
            if lab.stem == "lab4-strain":
                check_the_needle(result.stdout)
            print(f"\n{lab.name}: ok")
        check_nothing_is_left(swarm, env, ports)
    finally:
        if swarm.client.info()["Swarm"]["LocalNodeState"] == "active":
            subprocess.run(
                ["docker", "-H", swarm.base_url, "stack", "rm", "swarmgauge"], capture_output=True
            )
            swarm.remove_services()
        else:
            swarm.init_swarm()  # lab 6 left the Swarm: the tests after this one need it
