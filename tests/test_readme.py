"""The README's flag and topic tables against the programs: names, defaults, topics."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agent.settings.config import agent_options
from agent.shared.settings.options import Option
from agent.shared.wire.discovery import discovery_messages
from agent.shared.wire.identify import identify_topic
from agent.shared.wire.topics import gauge_topics, node_topics
from gauge.config import gauge_options
from gauge.discovery import cluster_discovery

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
FLAG = re.compile(r"`(--[a-z-]+)[^`]*`")


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def table_rows(text: str, first_header: str) -> list[list[str]]:
    """The rows of the table whose first header cell is first_header."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows


def flag_defaults(text: str) -> dict[str, str]:
    """flag -> the README's default text, from a | flag | default | meaning | table."""
    found = {}
    for cells in table_rows(text, "flag"):
        flags = FLAG.findall(cells[0])
        defaults = cells[1].split(", ") if len(flags) > 1 else [cells[1]]
        if len(defaults) == 1:
            defaults *= len(flags)  # one default for them all
        assert len(defaults) == len(flags), cells
        found.update(zip(flags, defaults, strict=True))
    return found


def agrees(option: Option, readme: str) -> bool:
    """Whether the README's default, read as the program reads the flag, is its default."""
    if option.switch:
        return readme == "off"
    if option.default is None:
        return True  # computed at run time: the README says how, in words
    if option.default == ():
        return readme == "none"
    text = readme.split(", else ")[-1]  # "`$DOCKER_HOST`, else unix:///…": the fallback
    try:
        value: Any = option.convert(text.strip("`"))
    except (ValueError, OSError):
        return False
    return bool(value == option.default)


def help_text(program: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", program, "--help"], capture_output=True, text=True, check=True
    )
    return " ".join(result.stdout.split())


@pytest.mark.parametrize("program", ["agent", "gauge"])
def test_every_flag_of_help_is_in_the_readme_with_its_default(program: str) -> None:
    if program == "agent":
        options = agent_options({})
        readme = flag_defaults(section("Flags"))
    else:
        options = gauge_options()
        text = section("The gauge")
        readme = flag_defaults(text)
        shared = text[text.index("plus the agent's broker flags") :].split("\n\n")[0]
        readme.update({f: "(as the agent)" for f in FLAG.findall(shared)})
    helped = help_text(program)
    by_flag = {o.flag: o for o in options}
    for option in options:
        assert f"{option.flag} " in helped and f"[env {option.env};" in helped, option.flag
    assert sorted(readme) == sorted(by_flag)
    wrong = [
        (flag, readme[flag], by_flag[flag].default)
        for flag in readme
        if readme[flag] != "(as the agent)" and not agrees(by_flag[flag], readme[flag])
    ]
    assert wrong == []


def test_the_check_sees_a_wrong_default() -> None:
    interval = next(o for o in agent_options({}) if o.flag == "--interval")
    assert agrees(interval, "5") and not agrees(interval, "10")


def test_the_topics_table_is_what_agent_and_gauge_publish() -> None:
    rows = table_rows(section("MQTT topics"), "topic")
    listed = [FLAG.sub("", cells[0]).strip("`") for cells in rows]
    topics, gauge = node_topics("swarmgauge", "<node>"), gauge_topics("swarmgauge")
    discovery = [
        *discovery_messages(topics, "homeassistant", with_temperature=True),
        *cluster_discovery(gauge, "homeassistant"),
    ]
    patterns = {re.sub(r"/[a-z_]+/config$", "/<sensor>/config", t) for t, _ in discovery}
    assert listed == [
        topics.state,
        topics.availability,
        topics.cluster,
        gauge.state,
        gauge.availability,
        identify_topic("swarmgauge", "<node>"),  # what a node hears: "show yourself"
        *sorted(patterns, key=lambda t: ("cluster" in t, t)),
    ]
    for row, pattern in zip(rows[6:], listed[6:], strict=True):
        documented = re.findall(r"`([a-z_]+)` \(|`([a-z_]+)`", row[2])
        keys = {a or b for a, b in documented} - {"diagnostic"}
        announced = {t.split("/")[-2] for t, _ in discovery if t.startswith(pattern[:-16])}
        assert keys == announced, pattern
