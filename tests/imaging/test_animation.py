"""Sampling an animation's frames: evenly, first and last included, never more than the cap."""

import io

import pytest
from PIL import Image

from tests.support.factories import encoded, image_bytes, scene
from webapp.imaging import RenderSettings, make_derivatives
from webapp.imaging.animation import later_frame_fingerprints, sample_indices


@pytest.mark.parametrize(
    ("frames", "most", "expected"),
    [
        (1, 16, [0]),
        (3, 16, [0, 1, 2]),
        (16, 16, list(range(16))),
        (7, 3, [0, 3, 6]),
        (100, 2, [0, 99]),
        (40, 16, [0, 3, 5, 8, 10, 13, 16, 18, 21, 23, 26, 29, 31, 34, 36, 39]),
    ],
)
def test_frames_are_sampled_evenly_with_the_first_and_last(frames, most, expected):
    assert sample_indices(frames, most) == expected


@pytest.mark.parametrize("frames", [17, 50, 1000])
def test_the_cap_is_honoured_and_no_frame_is_taken_twice(frames):
    sampled = sample_indices(frames, 16)
    assert len(sampled) == len(set(sampled)) == 16
    assert (sampled[0], sampled[-1]) == (0, frames - 1)
    assert sampled == sorted(sampled)


def animation(pictures: list[Image.Image], image_format: str) -> bytes:
    buffer = io.BytesIO()
    pictures[0].save(buffer, image_format, save_all=True, append_images=pictures[1:], duration=100)
    return buffer.getvalue()


@pytest.mark.parametrize("image_format", ["GIF", "WEBP", "PNG"])
def test_each_later_sampled_frame_of_an_animation_is_hashed(image_format):
    pictures = [scene(seed, (240, 180)) for seed in range(40, 47)]

    frames = later_frame_fingerprints(animation(pictures, image_format), RenderSettings(animation_frames=4))

    assert [frame.index for frame in frames] == [2, 4, 6]
    middle = make_derivatives(encoded(pictures[4])).fingerprint
    assert frames[1].fingerprint.distance(middle) <= 8


def test_a_three_frame_animation_gives_its_two_later_frames_and_a_still_image_none():
    pictures = [scene(seed, (240, 180)) for seed in range(3)]

    assert [
        frame.index for frame in later_frame_fingerprints(animation(pictures, "GIF"), RenderSettings())
    ] == [
        1,
        2,
    ]
    assert later_frame_fingerprints(image_bytes("GIF"), RenderSettings()) == []
    assert later_frame_fingerprints(image_bytes("PNG"), RenderSettings()) == []
