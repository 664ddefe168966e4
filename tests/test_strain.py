"""The strain formula, table-driven (README: "Strain")."""

from __future__ import annotations

import math

import pytest

from agent.strain import Strain, clamp01, cluster_strain, missing_fraction, node_strain

NODE_CASES = [
    # cpu %, memory %, tasks, capacity -> value, cpu, memory, tasks
    pytest.param(0, 0, 0, 8, (0.0, 0.0, 0.0, 0.0), id="idle, no tasks"),
    pytest.param(50, 10, 1, 8, (0.5, 0.5, 0.1, 0.125), id="cpu dominates"),
    pytest.param(10, 70, 2, 8, (0.7, 0.1, 0.7, 0.25), id="memory dominates"),
    pytest.param(10, 20, 6, 8, (0.75, 0.1, 0.2, 0.75), id="tasks dominate"),
    pytest.param(5, 5, 8, 8, (1.0, 0.05, 0.05, 1.0), id="tasks at capacity"),
    pytest.param(5, 5, 20, 8, (1.0, 0.05, 0.05, 1.0), id="tasks over capacity clamp"),
    pytest.param(5, 5, 3, 1, (1.0, 0.05, 0.05, 1.0), id="capacity 1"),
    pytest.param(5, 5, 3, 12, (0.25, 0.05, 0.05, 0.25), id="capacity 12"),
    pytest.param(100, 100, 0, 8, (1.0, 1.0, 1.0, 0.0), id="cpu and memory full"),
    pytest.param(130, -4, 0, 8, (1.0, 1.0, 0.0, 0.0), id="out-of-range readings clamp"),
]


@pytest.mark.parametrize(("cpu", "mem", "tasks", "capacity", "expected"), NODE_CASES)
def test_node_strain(
    cpu: float, mem: float, tasks: int, capacity: int, expected: tuple[float, ...]
) -> None:
    s = node_strain(cpu, mem, tasks, capacity)
    assert (s.value, s.cpu, s.memory, s.tasks) == pytest.approx(expected)


def test_node_strain_is_the_largest_component() -> None:
    for cpu in range(0, 101, 10):
        for mem in range(0, 101, 25):
            for tasks in range(0, 10):
                s = node_strain(cpu, mem, tasks, 8)
                assert s.value == max(s.cpu, s.memory, s.tasks)
                assert 0.0 <= s.value <= 1.0


def test_node_strain_default_capacity_is_four_workload_tasks() -> None:
    # lab 4's steps on one node: green, amber, red
    assert [node_strain(0, 0, n).tasks for n in (0, 1, 2, 3, 4, 5)] == [0, 0.25, 0.5, 0.75, 1, 1]


def test_capacity_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="capacity"):
        node_strain(0, 0, 1, 0)


CLUSTER_CASES = [
    # online node strains, desired, running -> cluster strain
    pytest.param([], 0, 0, 0.0, id="empty cluster"),
    pytest.param([0.2, 0.4, 0.9], 0, 0, 0.5, id="mean of nodes"),
    pytest.param([0.2, 0.4, 0.9], 10, 10, 0.5, id="all tasks running"),
    pytest.param([0.1, 0.1], 10, 4, 0.6, id="missing tasks dominate"),
    pytest.param([0.9], 10, 9, 0.9, id="nodes dominate over missing"),
    pytest.param([], 4, 0, 1.0, id="nothing running at all"),
    pytest.param([0.5], 3, 5, 0.5, id="more running than desired (rolling update)"),
    pytest.param([1.7, -0.3], 0, 0, 0.5, id="out-of-range node values clamp"),
]


@pytest.mark.parametrize(("values", "desired", "running", "expected"), CLUSTER_CASES)
def test_cluster_strain(values: list[float], desired: int, running: int, expected: float) -> None:
    assert cluster_strain(values, desired, running) == pytest.approx(expected)


def test_missing_fraction_edges() -> None:
    assert missing_fraction(0, 0) == 0.0
    assert missing_fraction(0, 3) == 0.0
    assert missing_fraction(8, 2) == 0.75


def test_clamp01_treats_nan_as_zero() -> None:
    assert clamp01(math.nan) == 0.0
    assert clamp01(math.inf) == 1.0


def test_strain_as_dict_names_every_component() -> None:
    assert Strain(0.5, 0.5, 0.2, 0.1).as_dict() == {
        "value": 0.5,
        "cpu": 0.5,
        "memory": 0.2,
        "tasks": 0.1,
    }
