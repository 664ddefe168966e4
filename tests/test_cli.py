"""swarmgauge-agent as a user runs it: flags, environment, --once without Docker."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

from tests.helpers import clean_env, json_lines, run_agent, validate

BAD_VALUES = [
    (["--interval", "0"], "--interval"),
    (["--interval", "-3"], "--interval"),
    (["--interval", "soon"], "--interval"),
    (["--brightness", "1.5"], "--brightness"),
    (["--brightness", "-0.1"], "--brightness"),
    (["--display", "hologram"], "--display"),
    (["--broker", "http://localhost"], "--broker"),
    (["--broker", "mqtt://"], "--broker"),
    (["--broker", "mqtt://host:99999"], "--broker"),
    (["--capacity", "0"], "--capacity"),
    (["--capacity", "2.5"], "--capacity"),
    (["--stack", "my stack"], "--stack"),
    (["--stack", "-x"], "--stack"),
    (["--prefix", "a/#"], "--prefix"),
    (["--docker-host", "ssh://pi@node1"], "--docker-host"),
    (["--docker-host", "tcp://127.0.0.1"], "--docker-host"),
    (["--no-such-flag"], "unrecognized"),
]


def assert_one_line_exit_2(result: object, names: str) -> None:
    assert result.returncode == 2, result  # type: ignore[attr-defined]
    err = result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("swarmgauge-agent: error: ")
    assert names in lines[0]


@pytest.mark.parametrize(("args", "names"), BAD_VALUES, ids=[" ".join(a) for a, _ in BAD_VALUES])
def test_bad_flag_is_one_line_and_exit_2(args: list[str], names: str) -> None:
    assert_one_line_exit_2(run_agent(["--once", *args]), names)


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("SWARMGAUGE_INTERVAL", "0"),
        ("SWARMGAUGE_BRIGHTNESS", "2"),
        ("SWARMGAUGE_DISPLAY", "hologram"),
        ("SWARMGAUGE_BROKER", "ftp://x"),
        ("SWARMGAUGE_CAPACITY", "0"),
        ("SWARMGAUGE_ONCE", "maybe"),
    ],
)
def test_bad_environment_value_names_the_variable(var: str, value: str) -> None:
    args = [] if var == "SWARMGAUGE_ONCE" else ["--once"]  # a flag would win over the variable
    assert_one_line_exit_2(run_agent(args, env=clean_env(**{var: value}), timeout_s=30), var)


def test_unusable_docker_host_from_environment_is_named() -> None:
    result = run_agent(["--once"], env=clean_env(DOCKER_HOST="ssh://pi@node1"))
    assert_one_line_exit_2(result, "DOCKER_HOST")


def test_flag_wins_over_environment() -> None:
    result = run_agent(
        ["--once", "--docker-host", "none", "--interval", "2"],
        env=clean_env(SWARMGAUGE_INTERVAL="0", SWARMGAUGE_NODE_NAME="from-env"),
    )
    assert result.returncode == 0, result.stderr  # the bad variable is overridden
    (node,) = json_lines(result.stdout)
    assert node["interval_s"] == 2.0
    assert node["node"] == "from-env"


def test_environment_sets_values() -> None:
    result = run_agent(
        [],
        env=clean_env(
            SWARMGAUGE_ONCE="yes",
            SWARMGAUGE_DOCKER_HOST="none",
            SWARMGAUGE_INTERVAL="7.5",
            SWARMGAUGE_NODE_NAME="pi zero/1+#",
        ),
    )
    assert result.returncode == 0, result.stderr
    (node,) = json_lines(result.stdout)
    assert node["interval_s"] == 7.5
    assert node["node"] == "pi_zero_1"  # made topic-safe
    validate("node", node)


def test_help_exits_0_and_lists_env_names() -> None:
    result = run_agent(["--help"])
    assert result.returncode == 0
    for env in ("SWARMGAUGE_INTERVAL", "SWARMGAUGE_BROKER", "SWARMGAUGE_DISPLAY"):
        assert env in result.stdout


def test_once_without_docker_still_reports_the_host() -> None:
    result = run_agent(["--once", "--docker-host", "none", "--node-name", "laptop"])
    assert result.returncode == 0, result.stderr
    (node,) = json_lines(result.stdout)
    validate("node", node)
    assert node["docker"] == {"ok": False, "error": "Docker disabled (--docker-host none)"}
    assert node["role"] == "none"
    assert node["host"]["cpu_count"] >= 1
    assert node["strain"]["value"] == max(
        node["strain"]["cpu"], node["strain"]["memory"], node["strain"]["tasks"]
    )


def test_docker_socket_absent(tmp_path: Path) -> None:
    missing = tmp_path / "docker.sock"
    result = run_agent(["--once", "--docker-host", f"unix://{missing}", "--node-name", "n1"])
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    (node,) = json_lines(result.stdout)
    validate("node", node)
    assert node["docker"]["ok"] is False
    assert "not found" in node["docker"]["error"] and str(missing) in node["docker"]["error"]
    assert node["host"]["memory_percent"] > 0
    # said once in the log, in one line
    assert sum("not found" in line for line in result.stderr.splitlines()) == 1


def test_docker_socket_refusing_permission(tmp_path: Path) -> None:
    """A socket that exists but that this user may not open."""
    path = tmp_path / "docker.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.listen(1)
    prefix: list[str] = []
    try:
        if os.geteuid() == 0:
            # root ignores file modes: own the socket by someone else, drop the override
            if shutil.which("setpriv") is None:
                pytest.skip("setpriv (util-linux) is needed to drop root's file override")
            os.chown(path, 4242, 4242)
            prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]
        os.chmod(path, 0o600 if os.geteuid() == 0 else 0o000)
        import subprocess
        import sys

        result = subprocess.run(
            [
                *prefix,
                sys.executable,
                "-m",
                "agent",
                "--once",
                "--docker-host",
                f"unix://{path}",
                "--node-name",
                "n1",
            ],
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        listener.close()
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    (node,) = json_lines(result.stdout)
    validate("node", node)
    assert node["docker"]["ok"] is False
    assert node["docker"]["error"].startswith("permission denied on Docker socket")
    assert node["host"]["cpu_count"] >= 1


SECRET = "PW-s3cret-9"


def password_files(tmp: Path) -> dict[str, Path]:
    files = {
        "binary": tmp / "binary",
        "empty": tmp / "empty",
        "lines": tmp / "lines",
        "good": tmp / "good",
    }
    files["binary"].write_bytes(b"\xff\xfe" + SECRET.encode())
    files["empty"].write_text("\n")
    files["lines"].write_text(f"{SECRET}\nmore\n")
    files["good"].write_text(f"{SECRET}\n")
    return files


@pytest.mark.parametrize("prog", ["agent", "gauge"])
def test_flags_out_of_range_and_bad_password_files_are_one_line_without_the_password(
    prog: str, tmp_path: Path
) -> None:
    """Each once escaped the one-line exit 2: a dead sampler, a flood, a dead MQTT thread,
    3.8 GB eaten, a traceback every interval, a password silently ignored."""
    import subprocess
    import sys

    files = password_files(tmp_path)
    url = f"mqtt://pi:{SECRET}@host"
    cases: list[tuple[list[str], dict[str, str], str]] = [
        (["--keepalive", "70000"], {}, "--keepalive"),
        (["--keepalive", "4"], {}, "--keepalive"),
        (["--prefix", "x" * 65536], {}, "--prefix"),
        (["--prefix", "a b"], {}, "--prefix"),
        (["--broker", f"mqtt://pi:{SECRET}@host:99999"], {}, "--broker"),
        (["--broker", f"mqtt://pi:{SECRET}@host:port"], {}, "--broker"),
        (["--broker", f"mqtt://pi:{SECRET}/x@host:99999"], {}, "--broker"),  # '/' in it
        ([], {"SWARMGAUGE_BROKER": f"mqtts://pi:{SECRET}@host:0"}, "SWARMGAUGE_BROKER"),
        ([], {"SWARMGAUGE_BROKER": f"ftp://pi:{SECRET}@host"}, "SWARMGAUGE_BROKER"),
        # forms that once printed the password (no scheme, one slash, none, backslashes,
        # a '/' or '@' in the user, a line end in the password)
        (["--broker", f"pi:{SECRET}@host:1883"], {}, "--broker"),
        (["--broker", f"mqtt:/pi:{SECRET}@h"], {}, "--broker"),
        (["--broker", f"mqtt:pi:{SECRET}@h"], {}, "--broker"),
        (["--broker", f"mqtt:\\\\pi:{SECRET}@h"], {}, "--broker"),
        (["--broker", f"mqtt://us/er:{SECRET}@h"], {}, "--broker"),
        (["--broker", f"mqtt://u@x:{SECRET}@h:99999"], {}, "--broker"),
        ([], {"SWARMGAUGE_BROKER": f"mqtt://pi:{SECRET}\nx@h:0"}, "SWARMGAUGE_BROKER"),
        (["--broker", "mqtt://pi@host", "--broker-password-file", "/dev/zero"], {}, "over 4096"),
        (["--broker", "mqtt://pi@h", "--broker-password-file", str(files["binary"])], {}, "UTF-8"),
        (["--broker", "mqtt://pi@h", "--broker-password-file", str(files["empty"])], {}, "empty"),
        (
            ["--broker", "mqtt://pi@h", "--broker-password-file", str(files["lines"])],
            {},
            "line",
        ),
        (["--broker", "mqtt://host", "--broker-password-file", str(files["good"])], {}, "a user"),
        (
            ["--broker", url, "--broker-password-file", str(files["good"]), "--keepalive", "0"],
            {},
            "--keepalive",
        ),  # fmt: skip
    ]
    if prog == "agent":
        cases += [
            (["--interval", "1e300"], {}, "--interval"),
            (["--interval", "1e-300"], {}, "--interval"),
            (["--interval", "0.1"], {}, "--interval"),
            (["--docker-timeout", "1e9"], {}, "--docker-timeout"),
            (["--capacity", "100000"], {}, "--capacity"),
        ]
    else:
        cases += [
            (["--stale-after", "1e300"], {}, "--stale-after"),
            (["--max-nodes", "0"], {}, "--max-nodes"),
            (["--forget-after", "1"], {}, "--forget-after"),
        ]
    for args, env, names in cases:
        result = subprocess.run(
            [sys.executable, "-m", prog, *(["--once"] if prog == "agent" else []), *args],
            env=clean_env(**env),
            capture_output=True,
            text=True,
            timeout=30,
        )
        err = result.stderr
        assert result.returncode == 2, (args, env, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, (args, err)
        assert err.startswith(f"swarmgauge-{prog}: error: ") and names in err, (args, err)
        assert SECRET not in err and SECRET not in result.stdout, (args, err)
