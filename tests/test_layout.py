"""The shape of the code: no import circles, a pure middle, a light --help."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("agent", "gauge")
# snapshot -> strain -> frame -> messages, and the parsing of what Docker says: plain
# data in, plain data out. They import none of the program's I/O, nor any library
# that does I/O.
PURE = {
    "agent.strain",
    "agent.frames",
    "agent.snapshot",
    "agent.host.reading",
    "agent.docker.readings",
    "agent.docker.address",
    "agent.shared.wire",
    "agent.shared.wire.names",
    "agent.shared.wire.topics",
    "agent.shared.wire.payloads",
    "agent.shared.wire.discovery",
    "gauge.view",
    "gauge.clocks",
    "gauge.summary",
    "gauge.discovery",
    "agent",  # the version
}
# Folders whose modules talk to the world (Docker, the host, LEDs, the broker, sockets),
# but for the pure ones among them.
IO_FOLDERS = ("agent.docker", "agent.host", "agent.display", "agent.shared.mqtt", "agent.proxy")
# What both programs use: the gauge imports the agent's display, frames and strain, and
# these, nothing else of the agent.
SHARED = "agent.shared"
GAUGE_MAY_IMPORT = ("agent", "agent.frames", "agent.strain")  # "agent": the version
VALUES = "agent.shared.settings.broker_url"  # BrokerUrl, TlsFiles: what the MQTT link takes
IO_LIBRARIES = {"docker", "paho", "psutil", "gpiozero", "blinkt", "RPi", "socket", "http", "h11"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """Every module this one imports, at the top or inside a function; for
    `from package import name`, the submodule where name is one."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names
                         if f"{node.module}.{a.name}" in known)  # fmt: skip
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(path, known) & known for name, path in mods.items()}


def test_there_is_no_import_circle() -> None:
    edges = graph()
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the path, 2 done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                circles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    assert circles == []


def test_the_graph_sees_imports() -> None:
    """The check above can fail: it sees a function-level import and a `from` form."""
    edges = graph()
    assert "agent.runner" in edges["agent.cli"]  # imported inside main()
    assert "agent.docker.connect" in edges["agent.sample"]


def test_the_middle_is_pure() -> None:
    mods = modules()
    known = set(mods)
    for name in sorted(PURE):
        imported = imports_of(mods[name], known)
        inside = {m for m in imported if m in known}
        assert inside <= PURE, f"{name} imports {sorted(inside - PURE)}"
        io = {m for m in imported if m.split(".")[0] in IO_LIBRARIES}
        assert not io, f"{name} imports {sorted(io)}"


def inside(name: str, folder: str) -> bool:
    return name == folder or name.startswith(folder + ".")


def offenders(modules_of: str, may: Callable[[str], bool]) -> dict[str, list[str]]:
    """Of the modules in a folder, those that import one of the program's own modules
    `may` refuses, and which."""
    found = {
        name: sorted(m for m in imported if not may(m))
        for name, imported in graph().items()
        if inside(name, modules_of)
    }
    return {name: bad for name, bad in found.items() if bad}


def test_the_gauge_imports_of_the_agent_only_what_is_shared() -> None:
    def may(m: str) -> bool:
        return (
            not inside(m, "agent")
            or m in GAUGE_MAY_IMPORT
            or inside(m, "agent.display")
            or inside(m, SHARED)
        )

    assert offenders("gauge", may) == {}


def test_what_is_shared_stands_on_its_own() -> None:
    """agent.shared imports nothing of the agent but itself and the pure middle it
    shows (frames' thresholds): the gauge gets no agent internals through it."""
    assert offenders(SHARED, lambda m: inside(m, SHARED) or m in GAUGE_MAY_IMPORT) == {}


def test_nothing_of_the_agent_imports_the_gauge() -> None:
    assert offenders("agent", lambda m: not inside(m, "gauge")) == {}


def test_settings_import_no_io() -> None:
    """Settings are plain values: no I/O library, no module of an I/O folder but the
    pure ones (a settings test needs no broker, Docker or GPIO)."""

    def may(m: str) -> bool:
        return m in PURE or not any(inside(m, folder) for folder in IO_FOLDERS)

    assert offenders("agent.settings", may) == {}
    assert offenders("agent.shared.settings", may) == {}
    mods = modules()
    for name, path in mods.items():
        if inside(name, "agent.settings") or inside(name, "agent.shared.settings"):
            io = {m for m in imports_of(path, set(mods)) if m.split(".")[0] in IO_LIBRARIES}
            assert not io, f"{name} imports {sorted(io)}"


def test_io_modules_take_plain_values() -> None:
    """An edge is handed the values it needs, never the programs' settings objects: of
    the settings, only the broker's address and TLS files (plain values) reach one."""
    settings = ("agent.settings", "gauge.config", "agent.shared.settings")

    def may(m: str) -> bool:
        return m == VALUES or not any(inside(m, s) for s in settings)

    for folder in IO_FOLDERS:
        assert offenders(folder, may) == {}


def test_imports_are_absolute() -> None:
    """The rules above read `import a.b` and `from a.b import c`: a relative import
    would pass them unseen."""
    relative = [
        f"{name}:{node.lineno}"
        for name, path in modules().items()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and node.level > 0
    ]
    assert relative == []


def test_the_proxy_is_a_program_of_its_own() -> None:
    """The socket proxy shares only the shared helpers and Docker's labels (pure)."""

    def may(m: str) -> bool:
        return inside(m, "agent.proxy") or inside(m, SHARED) or m == "agent.docker.readings"

    assert offenders("agent.proxy", may) == {}
    users = offenders("agent", lambda m: not inside(m, "agent.proxy"))
    assert [name for name in users if not inside(name, "agent.proxy")] == []


def test_the_folder_rules_can_fail() -> None:
    """The rules above see a real edge: the agent's runner reads the settings and Docker."""
    assert offenders("agent.runner", lambda m: not inside(m, "agent.settings"))
    assert offenders("gauge.runner", lambda m: not inside(m, SHARED))


def test_help_imports_no_docker_sdk_nor_mqtt_client_for_docker() -> None:
    """--help is the first thing a participant runs on a Pi Zero: the Docker SDK (and
    requests behind it) costs about a second there and is not needed to print help."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "agent", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-500:]
    loaded = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    assert "agent.cli" in loaded  # the check can see what --help imports
    assert not {m for m in loaded if m == "docker" or m.startswith(("docker.", "requests"))}


# paho-mqtt calls the code makes that older 2.x releases lack, and the release that
# brought each: the floor in pyproject.toml must be at least the newest of them
# (on 2.1 drop_out_messages() is missing: the MQTT thread died, nothing published).
PAHO_SINCE = {"drop_out_messages": (2, 2)}


def test_the_paho_floor_covers_what_the_code_calls() -> None:
    from importlib.metadata import version

    import paho.mqtt.client as mqtt

    pyproject = (ROOT / "pyproject.toml").read_text()
    floor_text = re.search(r'"paho-mqtt>=([0-9.]+)', pyproject)
    assert floor_text is not None
    floor = tuple(int(p) for p in floor_text.group(1).split("."))
    code = " ".join(p.read_text() for p in modules().values())
    for call, since in PAHO_SINCE.items():
        assert f".{call}(" in code  # still called: else drop it from the table
        assert hasattr(mqtt.Client, call)
        assert floor >= since, f"paho-mqtt>={floor_text.group(1)} lacks {call} (since {since})"
    installed = tuple(int(p) for p in version("paho-mqtt").split(".")[:2])
    assert installed >= floor[:2]
