"""The session-end check for processes the tests left behind: it finds one of ours,
however detached, and never one that is not ours, whatever it runs."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tests.leftovers import RUN_MARK, leftovers

SLEEPER = "import time; time.sleep(30)"


def detached(env: dict[str, str], argv0: str) -> int:
    """A grandchild re-parented to init (as one started through a shell's `&` is),
    named argv0; its pid."""
    launcher = subprocess.run(
        [sys.executable, "-c",
         "import subprocess, sys; p = subprocess.Popen(['bash', '-c', sys.argv[2], sys.argv[1]],"
         " start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL);"
         " print(p.pid)", argv0, f"exec -a {argv0} {sys.executable} -c '{SLEEPER}'"],
        capture_output=True, text=True, check=True, env=env,
    )  # fmt: skip
    return int(launcher.stdout)


def test_ours_is_found_and_a_decoy_beside_the_suite_is_not() -> None:
    run = os.environ[RUN_MARK]  # conftest marked this session
    ours = detached(dict(os.environ), "swarmgauge-gauge")
    # someone else's, started beside the suite: it runs what the tests run (the old
    # check went by command line and start time, and ended such a one)
    others = {k: v for k, v in os.environ.items() if k != RUN_MARK}
    decoys = [
        detached(others, "mosquitto"),
        detached({**others, RUN_MARK: "another-session"}, "swarmgauge-gauge"),
    ]
    try:
        time.sleep(0.3)  # the exec -a has happened
        found = leftovers(run, {os.getpid()})
        assert ours in found and found[ours].startswith("swarmgauge-gauge")
        assert not set(decoys) & set(found), found
        assert os.getpid() not in found
    finally:
        for pid in (ours, *decoys):
            os.kill(pid, 9)
    time.sleep(0.2)
    assert ours not in leftovers(run, {os.getpid()})
