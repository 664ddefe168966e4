"""swarmgauge-gauge: not built yet; says so plainly instead of pretending."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    print("swarmgauge-gauge: the gauge is not built yet (see issue 5)", file=sys.stderr)
    return 1
