"""The workshop's labs, as a participant without hardware follows them.

Every shell block is marked: `sh run` blocks are executed, lab by lab in order and
in one shell per lab, against the test swarm (DOCKER_HOST) with the image built by
the tests; `sh pi` and `sh internet` blocks need a Raspberry Pi or the internet and
are only checked for syntax. A shell block without a mark fails the test.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import clean_env
from tests.peers.dockerd import Dockerd
from tests.peers.images import broker_image
from tests.peers.net import free_port

WORKSHOP = Path(__file__).resolve().parents[1] / "workshop"
LABS = sorted(WORKSHOP.glob("lab*.md"))
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```", re.M | re.S)
MARKS = {"run", "pi", "internet"}
# what a participant should see, by lab: the labs promise these (regular expressions)
EXPECTED = {
    "lab1-blinkt": r"leds: ",
    "lab2-swarm": r"map\[gauge:yes\]",
    "lab3-deploy": r'"schema":1',
    # every load task up (0/4 must fail), and the gauge counting exactly 4 more
    "lab4-strain": r"\bload\s+replicated\s+4/4\b(.|\n)*running tasks: 4 more than before",
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


@pytest.mark.docker
def test_the_labs_run_as_written(swarm: Dockerd, image: str, tmp_path: Path) -> None:
    venv_bin = str(Path(sys.executable).parent)
    env = clean_env(
        DOCKER_HOST=swarm.base_url,
        SWARMGAUGE_IMAGE=image,
        SWARMGAUGE_BROKER_IMAGE=broker_image(swarm.client),
        SWARMGAUGE_BROKER_PORT=str(free_port()),
        SWARMGAUGE_GAUGE_PORT=str(free_port()),
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
            print(f"\n{lab.name}: ok")
    finally:
        subprocess.run(
            ["docker", "-H", swarm.base_url, "stack", "rm", "swarmgauge"], capture_output=True
        )
        swarm.remove_services()
