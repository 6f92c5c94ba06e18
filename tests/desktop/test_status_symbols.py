"""Every status symbol the desktop shows renders as a real glyph in the interface font (with
the shipped DejaVu Sans as its fallback), never as an empty box."""

from __future__ import annotations

import ast
import unicodedata
from pathlib import Path

import pytest

from hms_desktop.app import create_application
from hms_desktop.models.appointments import APPOINTMENT_STATUS, status_text
from hms_desktop.models.queue import QUEUE_STATUS, queue_status_text
from hms_desktop.qt import QApplication, QFont, QTextLayout

DESKTOP = Path(__file__).resolve().parents[2] / "hms_desktop"


def missing_glyphs(text: str, font: QFont) -> list[str]:
    """Characters of ``text`` the font (and its fallbacks) draw as .notdef (glyph 0), each
    laid out on its own as Qt would draw it."""
    missing = []
    for ch in text:
        if ch.isspace():
            continue
        layout = QTextLayout(ch, font)
        layout.beginLayout()
        layout.createLine().setLineWidth(1000)
        layout.endLayout()
        glyphs = [g for run in layout.glyphRuns() for g in run.glyphIndexes()]
        if not glyphs or 0 in glyphs:
            missing.append(ch)
    return missing


def symbols_in_source() -> set[str]:
    """Symbol characters (Unicode categories So and Sm, plus geometric shapes and arrows)
    in the desktop's string literals."""
    found: set[str] = set()
    for path in DESKTOP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found |= {
                    ch
                    for ch in node.value
                    if ord(ch) > 0x2000 and unicodedata.category(ch) in ("So", "Sm")
                }
    return found


@pytest.fixture(scope="module")
def interface_font(qapp) -> QFont:
    app = create_application()
    assert app is QApplication.instance()
    return QApplication.font()


@pytest.mark.parametrize("status", sorted(QUEUE_STATUS))
def test_every_queue_status_symbol_renders(interface_font, status):
    assert missing_glyphs(queue_status_text(status), interface_font) == []


@pytest.mark.parametrize("status", sorted(APPOINTMENT_STATUS))
def test_every_appointment_status_symbol_renders(interface_font, status):
    assert missing_glyphs(status_text(status), interface_font) == []


def test_every_symbol_in_the_desktop_source_renders(interface_font):
    symbols = symbols_in_source()
    assert {"➔", "◷", "✓", "⊘"} <= symbols  # the scan sees the status symbols
    assert missing_glyphs("".join(sorted(symbols)), interface_font) == []


def test_the_check_notices_a_glyph_no_font_has(interface_font):
    # U+1F4E3 (megaphone) was the old "Called" symbol: no shipped font has it.
    assert missing_glyphs("\U0001f4e3 Called", interface_font) == ["\U0001f4e3"]
