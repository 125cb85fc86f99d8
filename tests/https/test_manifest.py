"""The web manifest and its icons: what Android Chrome and iOS Safari need to install Hearth."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from assistant.https.icons import ICONS, OUTER_FLAME, icon_draw, path_points

STATIC = Path(__file__).resolve().parents[2] / "static"
MANIFEST = STATIC / "manifest.webmanifest"


def manifest() -> dict[str, object]:
    data = json.loads(MANIFEST.read_text())
    assert isinstance(data, dict)
    return data


def test_the_manifest_has_what_install_needs() -> None:
    data = manifest()

    required = ("id", "name", "short_name", "start_url", "scope", "display", "icons", "theme_color", "background_color")
    for field in required:
        assert data.get(field), f"manifest lacks {field}"
    assert data["display"] == "standalone"
    assert data["start_url"] == "/"
    assert data["scope"] == "/"
    assert len(str(data["short_name"])) <= 12  # fits under a home-screen icon
    for colour in (data["theme_color"], data["background_color"]):
        assert isinstance(colour, str)
        assert colour.startswith("#")
        assert len(colour) == 7


def test_every_icon_exists_with_its_declared_size_and_type() -> None:
    icons = manifest()["icons"]
    assert isinstance(icons, list)
    purposes: dict[str, set[str]] = {}
    for icon in icons:
        path = MANIFEST.parent / icon["src"]
        assert path.is_file(), f"{icon['src']} is missing"
        if icon["type"] == "image/svg+xml":
            assert icon["sizes"] == "any"
            continue
        assert icon["type"] == "image/png"
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert f"{image.width}x{image.height}" == icon["sizes"], icon["src"]
        purposes.setdefault(icon["sizes"], set()).add(icon["purpose"])
    # Chrome wants 192 and 512 pixel icons; Android's adaptive launcher a maskable one.
    assert {"any", "maskable"} <= purposes["192x192"]
    assert {"any", "maskable"} <= purposes["512x512"]


def test_the_apple_touch_icon_is_180_pixels_and_opaque() -> None:
    with Image.open(STATIC / "img" / "icons" / "apple-touch-icon.png") as image:
        assert image.size == (180, 180)
        rgba = image.convert("RGBA")
        assert rgba.getpixel((0, 0))[3] == 255  # iOS paints transparent corners black


def test_maskable_icons_keep_the_flame_inside_the_safe_zone() -> None:
    # The safe zone is the circle of 40% of the icon's size around its centre.
    points = path_points(OUTER_FLAME)
    assert max(((x - 16) ** 2 + (y - 16) ** 2) ** 0.5 for x, y in points) <= 0.4 * 32
    maskable = icon_draw(size=192, purpose="maskable")
    rounded = icon_draw(size=192, purpose="any")
    assert maskable.getpixel((0, 0))[3] == 255
    assert rounded.getpixel((0, 0))[3] == 0
    assert maskable.getpixel((96, 84))[:3] == (255, 255, 255)  # the flame's white body


def test_the_committed_icons_are_the_ones_the_renderer_draws() -> None:
    for spec in ICONS:
        with Image.open(STATIC / "img" / "icons" / spec.file_name) as committed:
            drawn = icon_draw(size=spec.size, purpose=spec.purpose)
            assert committed.size == drawn.size
            pairs = zip(committed.convert("RGBA").tobytes(), drawn.tobytes(), strict=True)
            difference = sum(abs(a - b) for a, b in pairs)
            assert difference / (spec.size * spec.size * 4) < 2, spec.file_name
