"""LED frames are pure functions of strain and tasks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.display.apa102 import brightness_field, frame_bits
from agent.frames import (
    AMBER,
    BLUE,
    GREEN,
    OFF,
    RED,
    WHITE,
    Thresholds,
    frame_for,
    service_colour,
    strain_band,
    strain_frame,
    tasks_frame,
)
from tests.apa102_decode import frames_from_bits

G, A, R = (*GREEN, 0.1), (*AMBER, 0.1), (*RED, 0.1)


@pytest.mark.parametrize(
    ("strain", "expected"),
    [
        (0.0, [OFF] * 8),
        (0.3, [G, G, (0, 128, 0, 0.1), OFF, OFF, OFF, OFF, OFF]),  # 2.4 pixels: half of the 3rd
        (0.75, [G, G, G, G, A, A, OFF, OFF]),
        (1.0, [G, G, G, G, A, A, R, R]),
        (1.7, [G, G, G, G, A, A, R, R]),
    ],
)
def test_strain_bar(strain: float, expected: list[tuple[int, int, int, float]]) -> None:
    assert list(strain_frame(strain, 0.1)) == expected


def test_thresholds_move_the_colours() -> None:
    frame = strain_frame(1.0, 0.2, Thresholds(amber_at=0.25, red_at=0.5))
    assert [p[:3] for p in frame] == [GREEN] * 2 + [AMBER] * 2 + [RED] * 4


def test_small_jitter_does_not_change_the_frame() -> None:
    assert strain_frame(0.401, 0.1) == strain_frame(0.409, 0.1)


def test_tasks_frame_one_pixel_per_task_in_service_order() -> None:
    frame = tasks_frame({"web": 3, "db": 1, "cache": 2}, 0.1)
    colours = [p[:3] for p in frame]
    cache, db, web = service_colour("cache"), service_colour("db"), service_colour("web")
    assert colours == [cache, cache, db, web, web, web, (0, 0, 0), (0, 0, 0)]
    assert len({cache, db, web}) == 3


def test_service_colour_is_stable_and_bright() -> None:
    assert service_colour("web") == service_colour("web")
    assert max(service_colour("anything")) == 255


def test_more_than_eight_tasks_shows_overflow() -> None:
    frame = tasks_frame({"web": 12}, 0.1)
    assert frame[-1] == (*WHITE, 0.1)
    assert all(p[:3] == service_colour("web") for p in frame[:-1])


def test_docker_unreachable_sign() -> None:
    assert strain_frame(0.2, 0.1, docker_ok=False)[-1] == (*BLUE, 0.1)
    assert tasks_frame({}, 0.1, docker_ok=False) == (OFF,) * 7 + ((*BLUE, 0.1),)
    # a full bar keeps its red pixel: the strain is the more urgent news
    assert strain_frame(1.0, 0.1, docker_ok=False)[-1] == R


def test_frame_for_picks_the_mode() -> None:
    common = {"strain": 0.5, "tasks_by_service": {"web": 1}, "docker_ok": True, "brightness": 0.1}
    assert frame_for("strain", thresholds=Thresholds(), **common) == strain_frame(0.5, 0.1)
    assert frame_for("tasks", thresholds=Thresholds(), **common) == tasks_frame({"web": 1}, 0.1)


@given(
    strain=st.floats(0, 2, allow_nan=False),
    tasks=st.dictionaries(st.text(min_size=1, max_size=8), st.integers(1, 6), max_size=4),
    cap=st.floats(0, 1),
    docker_ok=st.booleans(),
)
def test_brightness_field_never_exceeds_the_cap(
    strain: float, tasks: dict[str, int], cap: float, docker_ok: bool
) -> None:
    for frame in (
        strain_frame(strain, cap, docker_ok=docker_ok),
        tasks_frame(tasks, cap, docker_ok),
    ):
        (decoded,) = frames_from_bits(frame_bits(frame))
        assert all(field <= brightness_field(cap) for *_rgb, field in decoded)
        assert [p[:3] for p in decoded] == [p[:3] for p in frame]


def test_strain_bands_follow_the_thresholds() -> None:
    thresholds = Thresholds(0.5, 0.75)
    bands = [strain_band(s, thresholds) for s in (0.0, 0.1, 0.49, 0.5, 0.74, 0.75, 1.0)]
    assert bands == ["green", "green", "green", "amber", "amber", "red", "red"]
    assert strain_band(0.3, Thresholds(0.2, 0.4)) == "amber"
