"""Sampling an animation's frames: evenly, first and last included, never more than the cap; hashed and
kept small in one walk; tiled on a contact sheet."""

import io

import pytest
from PIL import Image

from tests.support.factories import encoded, image_bytes, scene
from webapp.imaging import RenderSettings, make_derivatives
from webapp.imaging.animation import later_frames, sample_indices
from webapp.imaging.contact_sheet import GAP, contact_sheet


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

    frames = later_frames(animation(pictures, image_format), RenderSettings(animation_frames=4))

    assert [frame.index for frame in frames] == [2, 4, 6]
    middle = make_derivatives(encoded(pictures[4])).fingerprint
    assert frames[1].fingerprint.distance(middle) <= 8
    assert all(frame.pixels is None for frame in frames)


@pytest.mark.parametrize("image_format", ["GIF", "WEBP", "PNG"])
def test_the_same_walk_keeps_each_sampled_frame_fitted_within_the_side_asked_for(image_format):
    colours = ["red", "lime", "blue", "yellow", "cyan", "magenta", "white"]
    pictures = [Image.new("RGB", (640, 480), colour) for colour in colours]

    frames = later_frames(animation(pictures, image_format), RenderSettings(animation_frames=4), side=320)

    assert [frame.pixels.size for frame in frames] == [(320, 240)] * 3
    # Rounded to pure colours: lossy WebP shifts a channel by one or two.
    assert [
        tuple(round(v / 255) * 255 for v in frame.pixels.getpixel((160, 120))[:3]) for frame in frames
    ] == [Image.new("RGB", (1, 1), colour).getpixel((0, 0)) for colour in ("blue", "cyan", "white")]
    small = later_frames(
        animation([p.resize((64, 48)) for p in pictures], image_format), RenderSettings(), 320
    )
    assert {frame.pixels.size for frame in small} == {(64, 48)}


def test_a_contact_sheet_tiles_the_frames_in_reading_order_on_a_near_square_grid():
    colours = ["red", "lime", "blue", "yellow", "cyan"]
    transparent = Image.new("RGBA", (400, 300), (0, 0, 0, 0))

    sheet = contact_sheet([Image.new("RGB", (400, 300), c) for c in colours] + [transparent], tile=200)

    assert sheet.mode == "RGB"
    assert sheet.size == (3 * 200 + 2 * GAP, 2 * 150 + GAP)
    centres = [(100 + column * (200 + GAP), 75 + row * (150 + GAP)) for row in (0, 1) for column in (0, 1, 2)]
    assert [sheet.getpixel(centre) for centre in centres] == [
        *(Image.new("RGB", (1, 1), c).getpixel((0, 0)) for c in colours),
        (255, 255, 255),
    ]


def test_a_three_frame_animation_gives_its_two_later_frames_and_a_still_image_none():
    pictures = [scene(seed, (240, 180)) for seed in range(3)]

    assert [frame.index for frame in later_frames(animation(pictures, "GIF"), RenderSettings())] == [
        1,
        2,
    ]
    assert later_frames(image_bytes("GIF"), RenderSettings()) == []
    assert later_frames(image_bytes("PNG"), RenderSettings()) == []
