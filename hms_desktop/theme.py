"""Fusion style with one restrained palette (light or dark, following the OS).

Status colours are shared by every workspace and always paired with text.
"""

from __future__ import annotations

from hms_desktop.qt import QApplication, QColor, QFont, QFontDatabase, QPalette, QStyleFactory, Qt
from hms_desktop.shipped_fonts import FAMILY_NAME, font_files

ACCENT = "#2563a8"
STATUS_COLOURS = {
    "ok": "#2e7d32",  # done / connected
    "waiting": "#b26a00",  # waiting / reconnecting
    "progress": "#1f5fa8",
    "critical": "#c62828",  # overdue / error
}

_LIGHT = {
    QPalette.ColorRole.Window: "#f3f5f8",
    QPalette.ColorRole.WindowText: "#1c2430",
    QPalette.ColorRole.Base: "#ffffff",
    QPalette.ColorRole.AlternateBase: "#f0f3f7",
    QPalette.ColorRole.Text: "#1c2430",
    QPalette.ColorRole.Button: "#e9edf2",
    QPalette.ColorRole.ButtonText: "#1c2430",
    QPalette.ColorRole.Highlight: ACCENT,
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.ToolTipBase: "#ffffff",
    QPalette.ColorRole.ToolTipText: "#1c2430",
    QPalette.ColorRole.PlaceholderText: "#7a8594",
    QPalette.ColorRole.Link: ACCENT,
    QPalette.ColorRole.Mid: "#c5ccd6",
}
_DARK = {
    QPalette.ColorRole.Window: "#1f2329",
    QPalette.ColorRole.WindowText: "#e6e9ee",
    QPalette.ColorRole.Base: "#16191e",
    QPalette.ColorRole.AlternateBase: "#1d2127",
    QPalette.ColorRole.Text: "#e6e9ee",
    QPalette.ColorRole.Button: "#2a2f37",
    QPalette.ColorRole.ButtonText: "#e6e9ee",
    QPalette.ColorRole.Highlight: "#3b7dd8",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.ToolTipBase: "#2a2f37",
    QPalette.ColorRole.ToolTipText: "#e6e9ee",
    QPalette.ColorRole.PlaceholderText: "#8a93a0",
    QPalette.ColorRole.Link: "#6ea6ef",
    QPalette.ColorRole.Mid: "#3a404a",
}

STYLE_SHEET = """
QListWidget#navRail { border: none; border-right: 1px solid palette(mid); padding-top: 8px;
    font-size: 11pt; background: palette(base); outline: 0; }
QListWidget#navRail::item { padding: 10px 14px; border-radius: 6px; margin: 2px 8px; }
QListWidget#navRail::item:selected { background: palette(highlight);
    color: palette(highlighted-text); }
QLabel[role="title"] { font-size: 16pt; font-weight: 600; }
QLabel[role="subtitle"] { color: palette(placeholder-text); }
QLabel[role="error"] { color: #c62828; }
QLabel[role="notice"] { color: #8a5a00; }
QLabel[role="code"] { color: palette(placeholder-text); font-size: 8pt; }
QFrame[role="banner"] { background: #fff4e0; border: 1px solid #e0b060; border-radius: 4px; }
QFrame[role="banner"] QLabel { color: #5a3b00; }
QLabel[role="badge"] { background: palette(highlight); color: palette(highlighted-text);
    border-radius: 9px; padding: 2px 10px; font-weight: 600; }
QFrame#lockOverlay { background: palette(window); }
"""


def is_dark_mode(app: QApplication) -> bool:
    scheme = app.styleHints().colorScheme()
    return scheme == Qt.ColorScheme.Dark


def install_shipped_fonts(app: QApplication) -> None:
    """Register the shipped DejaVu Sans and make it the fallback of the interface font, so a
    status symbol (◷ ➔ ▶ ✓ ⊘ …) or a name in another script never shows as an empty box on a
    workstation whose own fonts lack it."""
    for path in font_files():
        if path.exists():
            QFontDatabase.addApplicationFont(str(path))
    family = app.font().family()
    if family != FAMILY_NAME and FAMILY_NAME not in QFont.substitutes(family):
        QFont.insertSubstitution(family, FAMILY_NAME)


def apply_theme(app: QApplication) -> None:
    """Fusion + palette matching the OS colour scheme; re-applied when the OS switches."""
    install_shipped_fonts(app)
    app.setStyle(QStyleFactory.create("Fusion"))
    _apply_palette(app)
    app.setStyleSheet(STYLE_SHEET)
    app.styleHints().colorSchemeChanged.connect(lambda _scheme: _apply_palette(app))


def _apply_palette(app: QApplication) -> None:
    colours = _DARK if is_dark_mode(app) else _LIGHT
    palette = QPalette()
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.ButtonText,
    ):
        palette.setColor(
            QPalette.ColorGroup.Disabled, role, QColor(colours[QPalette.ColorRole.PlaceholderText])
        )
    app.setPalette(palette)
