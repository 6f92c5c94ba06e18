#!/usr/bin/env python3
"""Draw the HMS Desktop icon (same design as resources/icons/hms-desktop.svg) as a Windows .ico.

make_icon.py OUTPUT.ico        (needs Pillow)
"""

from __future__ import annotations

import sys

from PIL import Image, ImageDraw


def draw(size: int = 256) -> Image.Image:
    scale = 4  # draw large, scale down: smooth edges
    s = size * scale
    k = s / 256
    image = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.rounded_rectangle([8 * k, 8 * k, 248 * k, 248 * k], radius=48 * k, fill="#1565c0")
    pen.rectangle([104 * k, 48 * k, 152 * k, 208 * k], fill="white")
    pen.rectangle([48 * k, 104 * k, 208 * k, 152 * k], fill="white")
    pen.ellipse([114 * k, 114 * k, 142 * k, 142 * k], fill="#1565c0")
    return image.resize((size, size), Image.LANCZOS)


if __name__ == "__main__":
    draw().save(
        sys.argv[1],
        sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)],
    )
