"""The app icons phones want, drawn with Pillow from the shapes of static/img/hearth.svg.

    .venv/bin/python -m assistant.https.icons static/img/icons

writes the PNGs the web manifest and the iOS home-screen link name. "any" icons keep the logo's rounded
corners (transparent); "maskable" ones and Apple's touch icon fill the whole square, because Android
crops them to its own shape and iOS rounds them itself (it would paint transparent corners black).
The logo's flame fits inside the central 80% circle that a maskable icon must keep clear.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

# The logo's geometry, in its 32 x 32 viewBox (static/img/hearth.svg).
BACKGROUND = "#c2410c"
FLAME = "#ffffff"
OUTER_FLAME = (
    "M16.4 6.5c.6 3 3.4 4.8 4.8 7.6 1.9 3.8-.4 9.4-5.2 9.4-4.3 0-6.8-4.1-5.3-8 .5 1.4 1.5 2.3 2.6 2.6"
    "-.6-2.6.1-4.8 1.4-6.6 1-1.4 1.7-3 1.7-5z"
)
INNER_FLAME = "M16 18.3c.2 1.3 1.7 1.9 1.7 3.4a1.7 1.7 0 0 1-3.4 0c0-1.2 1.1-2 1.7-3.4z"
VIEWBOX = 32.0
CORNER_RADIUS = 9.0
SUPERSAMPLE = 4


@dataclass(frozen=True)
class IconSpec:
    file_name: str
    size: int
    purpose: str  # "any" (rounded, transparent corners) or "maskable" (full bleed)


ICONS: tuple[IconSpec, ...] = (
    IconSpec("icon-192.png", 192, "any"),
    IconSpec("icon-512.png", 512, "any"),
    IconSpec("icon-maskable-192.png", 192, "maskable"),
    IconSpec("icon-maskable-512.png", 512, "maskable"),
    IconSpec("apple-touch-icon.png", 180, "maskable"),
    IconSpec("favicon-32.png", 32, "any"),
)

_TOKEN = re.compile(r"[MmCcLlAaZz]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
Point = tuple[float, float]


def path_points(path: str, *, steps: int = 24) -> list[Point]:
    """The outline of an SVG path (M, L, C, A, Z, absolute or relative) as a polygon."""
    tokens = _TOKEN.findall(path)
    points: list[Point] = []
    current: Point = (0.0, 0.0)
    command = ""
    index = 0
    while index < len(tokens):
        if tokens[index].isalpha():
            command = tokens[index]
            index += 1
            if command in "Zz":
                continue
        arity = {"M": 2, "L": 2, "C": 6, "A": 7}[command.upper()]
        values = [float(token) for token in tokens[index : index + arity]]
        index += arity
        current, segment = _segment(command, current, values, steps)
        points.extend(segment)
        if command in "Mm":
            command = "l" if command == "m" else "L"  # SVG: pairs after a moveto are linetos
    return points


def _segment(command: str, current: Point, values: list[float], steps: int) -> tuple[Point, list[Point]]:
    relative = command.islower()
    ox, oy = current if relative else (0.0, 0.0)
    kind = command.upper()
    if kind in "ML":
        end = (ox + values[0], oy + values[1])
        return end, [end]
    if kind == "C":
        c1, c2 = (ox + values[0], oy + values[1]), (ox + values[2], oy + values[3])
        end = (ox + values[4], oy + values[5])
        return end, [_cubic(current, c1, c2, end, i / steps) for i in range(1, steps + 1)]
    end = (ox + values[5], oy + values[6])
    return end, _arc(current, end, radius=values[0], large=bool(values[3]), sweep=bool(values[4]), steps=steps)


def _cubic(p0: Point, p1: Point, p2: Point, p3: Point, t: float) -> Point:
    u = 1 - t
    return (
        u**3 * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t**3 * p3[0],
        u**3 * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t**3 * p3[1],
    )


def _arc(start: Point, end: Point, *, radius: float, large: bool, sweep: bool, steps: int) -> list[Point]:
    """A circular arc from start to end (SVG's endpoint form, equal radii, no rotation)."""
    mx, my = (end[0] - start[0]) / 2, (end[1] - start[1]) / 2
    half = math.hypot(mx, my)
    radius = max(radius, half)
    offset = math.sqrt(max(radius * radius - half * half, 0.0))
    sign = -1.0 if large == sweep else 1.0
    nx, ny = (-my / half, mx / half) if half else (0.0, 0.0)
    cx, cy = start[0] + mx + sign * offset * nx, start[1] + my + sign * offset * ny
    a0 = math.atan2(start[1] - cy, start[0] - cx)
    a1 = math.atan2(end[1] - cy, end[0] - cx)
    delta = a1 - a0
    if sweep and delta < 0:
        delta += 2 * math.pi
    if not sweep and delta > 0:
        delta -= 2 * math.pi
    return [
        (cx + radius * math.cos(a0 + delta * i / steps), cy + radius * math.sin(a0 + delta * i / steps))
        for i in range(1, steps + 1)
    ]


def icon_draw(*, size: int, purpose: str) -> Image.Image:
    """The logo at `size` pixels: drawn large, then scaled down for smooth edges."""
    big = size * SUPERSAMPLE
    scale = big / VIEWBOX
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if purpose == "maskable":
        draw.rectangle((0, 0, big, big), fill=BACKGROUND)
    else:
        draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=CORNER_RADIUS * scale, fill=BACKGROUND)
    for path, colour in ((OUTER_FLAME, FLAME), (INNER_FLAME, BACKGROUND)):
        draw.polygon([(x * scale, y * scale) for x, y in path_points(path)], fill=colour)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def icons_render(*, folder: Path) -> list[Path]:
    """Write every icon of ICONS into `folder`; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for spec in ICONS:
        path = folder / spec.file_name
        icon_draw(size=spec.size, purpose=spec.purpose).save(path, format="PNG", optimize=True)
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in icons_render(folder=Path(sys.argv[1] if len(sys.argv) > 1 else "static/img/icons")):
        print(written_path)
