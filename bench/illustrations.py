"""Benign illustrations drawn in memory, deterministically from a seed: no people in any of them.

Five kinds, in turn: landscapes (sky gradient, sun, mountains, trees), sunsets (a large orange sun low over
the sea), flat-colour shapes, cartoon objects (houses, balloons, fruit, cars) and stripes and dots.
bench/benign_illustrations.py moderates them.
"""

import math
import random
from collections.abc import Callable, Iterator

from PIL import Image, ImageDraw

SIZES = ((1024, 768), (800, 800), (1600, 900), (640, 960), (512, 384), (2048, 1536))
SKIES = ((90, 160, 230), (150, 200, 250), (250, 180, 120), (40, 50, 110), (200, 220, 235))
WARM = ((255, 200, 60), (255, 150, 40), (250, 110, 50), (255, 225, 120), (240, 90, 70))
GREENS = ((40, 120, 50), (70, 150, 60), (30, 90, 40), (110, 170, 80))
PALETTE = (*WARM, *GREENS, (60, 90, 200), (200, 60, 140), (120, 80, 50), (230, 230, 230), (30, 30, 30))


def gradient(size: tuple[int, int], top: tuple[int, ...], bottom: tuple[int, ...]) -> Image.Image:
    """A vertical two-colour gradient."""
    mask = Image.linear_gradient("L").resize(size)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)


def landscape(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """Sky, a sun, mountain ridges and round or pointed trees on a green field."""
    width, height = size
    sky = rng.choice(SKIES)
    picture = gradient(size, sky, tuple(min(255, c + 60) for c in sky))
    draw = ImageDraw.Draw(picture)
    radius = width * rng.uniform(0.04, 0.12)
    x, y = width * rng.uniform(0.1, 0.9), height * rng.uniform(0.08, 0.35)
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=rng.choice(WARM))
    for ridge in range(rng.randint(1, 3)):
        base = height * (0.55 + 0.08 * ridge)
        peaks = (
            [(0, height)]
            + [(width * i / 6, base - height * rng.uniform(0.05, 0.3)) for i in range(7)]
            + [(width, height)]
        )
        shade = 110 - 25 * ridge
        draw.polygon(peaks, fill=(shade, shade + 10, shade + 30))
    draw.rectangle((0, height * 0.8, width, height), fill=rng.choice(GREENS))
    for _ in range(rng.randint(2, 9)):
        tx, ty, tall = width * rng.random(), height * rng.uniform(0.78, 0.95), height * rng.uniform(0.08, 0.2)
        draw.rectangle((tx - tall * 0.06, ty - tall * 0.4, tx + tall * 0.06, ty), fill=(110, 70, 40))
        if rng.random() < 0.5:
            draw.ellipse(
                (tx - tall * 0.3, ty - tall, tx + tall * 0.3, ty - tall * 0.35), fill=rng.choice(GREENS)
            )
        else:
            draw.polygon(
                [(tx, ty - tall), (tx - tall * 0.3, ty - tall * 0.3), (tx + tall * 0.3, ty - tall * 0.3)],
                fill=rng.choice(GREENS),
            )
    return picture


def sunset(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """A large orange sun sinking into the sea under a warm sky, with its reflection in stripes."""
    width, height = size
    horizon = height * rng.uniform(0.5, 0.75)
    picture = gradient(size, rng.choice(SKIES[2:4]), rng.choice(WARM))
    draw = ImageDraw.Draw(picture)
    radius = min(width, height) * rng.uniform(0.1, 0.3)
    x = width * rng.uniform(0.25, 0.75)
    draw.ellipse((x - radius, horizon - radius, x + radius, horizon + radius), fill=rng.choice(WARM))
    draw.rectangle((0, horizon, width, height), fill=(30, 60, rng.randint(90, 150)))
    for i in range(rng.randint(3, 7)):
        y, half = horizon + (i + 1) * height * 0.03, radius * (1 - i * 0.12)
        draw.rectangle((x - half, y, x + half, y + height * 0.01), fill=rng.choice(WARM))
    return picture


def shapes(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """Flat-colour circles, rectangles and triangles, overlapping, on a plain background."""
    width, height = size
    picture = Image.new("RGB", size, rng.choice(PALETTE))
    draw = ImageDraw.Draw(picture)
    for _ in range(rng.randint(2, 12)):
        x, y = width * rng.random(), height * rng.random()
        r = min(width, height) * rng.uniform(0.05, 0.35)
        fill, kind = rng.choice(PALETTE), rng.randrange(3)
        if kind == 0:
            draw.ellipse((x - r, y - r, x + r, y + r * rng.uniform(0.6, 1.4)), fill=fill)
        elif kind == 1:
            draw.rectangle((x - r, y - r * rng.uniform(0.3, 1), x + r, y + r), fill=fill)
        else:
            draw.polygon([(x, y - r), (x - r, y + r), (x + r, y + r * rng.uniform(0.5, 1))], fill=fill)
    return picture


def objects(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """Cartoon objects with dark outlines: houses, balloons, fruit, cars."""
    width, height = size
    picture = gradient(size, rng.choice(SKIES), (230, 230, 210))
    draw = ImageDraw.Draw(picture)
    line = max(2, width // 200)
    for _ in range(rng.randint(1, 5)):
        x, y, s = (
            width * rng.uniform(0.1, 0.9),
            height * rng.uniform(0.2, 0.85),
            min(size) * rng.uniform(0.1, 0.3),
        )
        fill, kind = rng.choice(PALETTE), rng.randrange(4)
        if kind == 0:
            draw.rectangle((x - s, y - s * 0.6, x + s, y + s * 0.6), fill=fill, outline="black", width=line)
            draw.polygon(
                [(x - s * 1.1, y - s * 0.6), (x, y - s * 1.3), (x + s * 1.1, y - s * 0.6)],
                fill=(160, 50, 40),
                outline="black",
                width=line,
            )
            draw.rectangle((x - s * 0.2, y, x + s * 0.2, y + s * 0.6), fill=(100, 60, 30), outline="black")
        elif kind == 1:
            draw.line((x, y + s * 0.6, x + s * 0.1, y + s * 1.6), fill="black", width=line)
            draw.ellipse(
                (x - s * 0.5, y - s * 0.6, x + s * 0.5, y + s * 0.6), fill=fill, outline="black", width=line
            )
        elif kind == 2:
            draw.ellipse(
                (x - s * 0.5, y - s * 0.45, x + s * 0.5, y + s * 0.5), fill=fill, outline="black", width=line
            )
            draw.ellipse((x - s * 0.05, y - s * 0.7, x + s * 0.25, y - s * 0.4), fill=rng.choice(GREENS))
        else:
            draw.rounded_rectangle(
                (x - s, y - s * 0.3, x + s, y + s * 0.2), s * 0.15, fill=fill, outline="black", width=line
            )
            for wheel in (-0.6, 0.6):
                cx = x + s * wheel
                draw.ellipse((cx - s * 0.2, y + s * 0.05, cx + s * 0.2, y + s * 0.45), fill=(40, 40, 40))
    return picture


def patterns(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """Stripes at an angle, or a grid of dots, in two or three flat colours."""
    width, height = size
    colours = rng.sample(PALETTE, 3)
    picture = Image.new("RGB", size, colours[0])
    draw = ImageDraw.Draw(picture)
    step = min(size) * rng.uniform(0.04, 0.2)
    if rng.random() < 0.5:
        slope = math.tan(rng.uniform(-1.2, 1.2))
        for i in range(-40, 80):
            x = i * step
            draw.line(
                (x, 0, x + slope * height, height), fill=colours[1 + i % 2], width=max(1, int(step / 3))
            )
    else:
        for row in range(int(height / step) + 1):
            for column in range(int(width / step) + 1):
                x, y, r = column * step, row * step, step * 0.3
                draw.ellipse((x - r, y - r, x + r, y + r), fill=colours[1 + (row + column) % 2])
    return picture


KINDS: dict[str, Callable[[random.Random, tuple[int, int]], Image.Image]] = {
    "landscape": landscape,
    "sunset": sunset,
    "shapes": shapes,
    "objects": objects,
    "patterns": patterns,
}


def illustrations(count: int, seed: int = 0) -> Iterator[tuple[str, Image.Image]]:
    """`count` benign illustrations, the kinds in turn, each named by its kind and number."""
    for number in range(count):
        kind = list(KINDS)[number % len(KINDS)]
        rng = random.Random(f"{seed}/{number}")
        yield f"{kind}-{number}", KINDS[kind](rng, rng.choice(SIZES))
