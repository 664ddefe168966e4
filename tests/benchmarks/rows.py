"""One row of the benchmark table: every bench prints its headline figures this way,
and `python -m tests.benchmarks` gathers the rows of all of them into one table."""

from __future__ import annotations

HEAD = "| figure | value | target | ratio |\n|---|---|---|---|"


def row(figure: str, value: str, target: str = "", ratio: float | None = None) -> None:
    """Print a table row; ratio: value / target where there is one (≤ 1 meets it)."""
    shown = "" if ratio is None else f"{ratio:.2f}"
    print(f"| {figure} | {value} | {target} | {shown} |", flush=True)
