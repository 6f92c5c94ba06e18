"""The one place PDF fonts are registered: the DejaVu family shipped in the top-level
``resources/fonts`` (the ``hms_resources`` package of an installed wheel) so names in any
Latin, Greek or Cyrillic script print the same on every workstation. ``registerFontFamily``
maps bold/italic so ``<b>``/``<i>`` in reportlab paragraphs pick the right face (a TTF alone
ignores them)."""

from __future__ import annotations

import threading
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from hms_desktop.shipped_fonts import font_dir

FONT_DIR: Path = font_dir()
REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
ITALIC = "DejaVuSans-Oblique"
BOLD_ITALIC = "DejaVuSans-BoldOblique"
FAMILY = "DejaVuSans"

_lock = threading.Lock()
_registered = False


def register_fonts() -> tuple[str, str]:
    """Register the shipped fonts once (thread-safe; renders run off the GUI thread) and
    return ``(regular_name, bold_name)`` for ``canvas.setFont`` / paragraph styles."""
    global _registered
    with _lock:
        if not _registered:
            for name in (REGULAR, BOLD, ITALIC, BOLD_ITALIC):
                pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / f"{name}.ttf")))
            pdfmetrics.registerFontFamily(
                FAMILY, normal=REGULAR, bold=BOLD, italic=ITALIC, boldItalic=BOLD_ITALIC
            )
            for bold, italic, face in (
                (0, 0, REGULAR),
                (1, 0, BOLD),
                (0, 1, ITALIC),
                (1, 1, BOLD_ITALIC),
            ):
                addMapping(FAMILY, bold, italic, face)
            _registered = True
    return REGULAR, BOLD
