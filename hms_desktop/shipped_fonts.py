"""Where the fonts HMS ships live (DejaVu Sans, in the top-level ``resources/fonts``, the
``hms_resources`` package of an installed wheel). No Qt and no reportlab here: the screens
(``theme.install_shipped_fonts``) and the PDF printouts (``printing.fonts``) both read it."""

from __future__ import annotations

from pathlib import Path

FAMILY_NAME = "DejaVu Sans"
FACES = ("DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique", "DejaVuSans-BoldOblique")


def font_dir() -> Path:
    try:
        import hms_resources
    except ModuleNotFoundError:  # a source checkout with an older editable install
        return Path(__file__).resolve().parents[1] / "resources" / "fonts"
    return Path(hms_resources.ROOT) / "fonts"


def font_files() -> list[Path]:
    return [font_dir() / f"{face}.ttf" for face in FACES]
